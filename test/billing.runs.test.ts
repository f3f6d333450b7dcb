import { beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../src/shared/money.js';
import { sum } from './support/money.js';
import { vatIncluded } from '../src/domain/vat.js';
import {
  useBillingHarness,
  expectEachOnExactlyOneInvoice,
  postBillingRun,
  refund,
  waitForRun,
} from './support/billing.js';
import {
  assertion,
  bearer,
  buy,
  createOperator,
  idemKey,
  provision,
  unique,
  type OperatorFixture,
} from './support/harness.js';
import { billingRunCount } from './support/rows.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

interface InvoiceBody {
  id: string;
  billingRunId: string;
  subscriberRef: string;
  status: string;
  total: string;
  vatAmount: string;
  vatTotal: string;
  type: string;
  correctsInvoiceId: string | null;
  lines: {
    publisherId: string;
    description: string;
    amount: string;
    vatRate: string;
    vat: string;
    vatAmount: string;
    purchaseId: string;
    refundId: string | null;
  }[];
}

const gw = useGateway({ queuePrefix: unique('q-billing-runs') });
const operator = useOperator(gw);
const publisher = usePublisher(gw);
useBillingHarness(gw, { worker: true });

async function confirmed(token: string, amount: string, description = 'An article'): Promise<string> {
  const { id, res } = await buy(gw, publisher, token, { amount, description });
  expect(res.status).toBe(200);
  return id;
}

async function allInvoices(op: OperatorFixture, runId: string): Promise<InvoiceBody[]> {
  const res = await gw
    .api()
    .get('/v1/operator/invoices')
    .query({ billingRun: runId, limit: 200 })
    .set(bearer(op.apiKey));
  expect(res.status).toBe(200);
  return res.body.data;
}

describe('POST /v1/operator/billing-runs: input', () => {
  it('When the Idempotency-Key is missing, then it is 400 and no run is stored', async () => {
    const before = await billingRunCount(gw, operator.id);
    const res = await gw.api().post('/v1/operator/billing-runs').set(bearer(operator.apiKey)).send({});
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(await billingRunCount(gw, operator.id)).toBe(before);
  });

  it('When through is in the future or not a time, then it is 400 naming through, and the key stays free', async () => {
    const key = idemKey();
    for (const through of [new Date(Date.now() + 3_600_000).toISOString(), 'yesterday', 12]) {
      const res = await gw
        .api()
        .post('/v1/operator/billing-runs')
        .set(bearer(operator.apiKey))
        .set('Idempotency-Key', key)
        .send({ through });
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields).toHaveProperty('through');
    }
    const ok = await gw
      .api()
      .post('/v1/operator/billing-runs')
      .set(bearer(operator.apiKey))
      .set('Idempotency-Key', key)
      .send({});
    expect(ok.status).toBe(202);
    await waitForRun(gw, operator, ok.body.id);
  });

  it('When a publisher asks for a run, then it is 403', async () => {
    const res = await gw
      .api()
      .post('/v1/operator/billing-runs')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expect(res.status).toBe(403);
  });

  it('When the same key is sent twice, then one run is made and the first answer replayed', async () => {
    const key = idemKey();
    const first = await gw
      .api()
      .post('/v1/operator/billing-runs')
      .set(bearer(operator.apiKey))
      .set('Idempotency-Key', key)
      .send({});
    const second = await gw
      .api()
      .post('/v1/operator/billing-runs')
      .set(bearer(operator.apiKey))
      .set('Idempotency-Key', key)
      .send({});
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'queued' });
    expect(second.text).toBe(first.text);
    await waitForRun(gw, operator, first.body.id);
  });
});

describe('A billing run puts purchases and refunds on one invoice per billing subscriber', () => {
  it('When a household, a neighbour and a late purchase are billed, then the child is on the holder’s invoice and late ones wait', async () => {
    const op = await createOperator(gw);
    const holder = await provision(gw, op);
    const child = await provision(gw, op, unique('child'), { holderRef: holder });
    const neighbour = await provision(gw, op);
    const outsider = await provision(gw, operator);

    const holderBuys = [
      await confirmed(assertion(op, holder), '2.00', 'Le journal'),
      await confirmed(assertion(op, holder), '0.09', 'Une brève'),
    ];
    const childBuy = await confirmed(assertion(op, child), '4.99', '500 gems');
    const neighbourBuy = await confirmed(assertion(op, neighbour), '10.00', 'A guide');
    const refundId = await refund(gw, publisher.apiKey, neighbourBuy, '4.00');
    const outsiderBuy = await confirmed(assertion(operator, outsider), '1.00');
    await new Promise((r) => setTimeout(r, 5));
    const through = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const lateBuy = await confirmed(assertion(op, holder), '3.00', 'After the cut');

    const posted = await postBillingRun(gw, op, { through });
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ through, status: 'queued' });
    const run = await waitForRun(gw, op, posted.body.id);
    expect(run).toMatchObject({ status: 'done', invoiceCount: 2, total: '13.08' });

    const invoices = await allInvoices(op, run.id);
    const byRef = new Map(invoices.map((i) => [i.subscriberRef, i]));
    expect([...byRef.keys()].sort()).toEqual([holder, neighbour].sort());
    const household = byRef.get(holder) as InvoiceBody;
    expect(household.lines.map((l) => l.purchaseId).sort()).toEqual([...holderBuys, childBuy].sort());
    expect(household.total).toBe('7.08');
    expect(household.lines.find((l) => l.purchaseId === childBuy)).toMatchObject({
      publisherId: publisher.id,
      description: '500 gems',
      amount: '4.99',
      // v1.1: a press publisher's lines carry French online press VAT, 2.1% (4.99 × 0.021 / 1.021 = 0.1026…).
      vatRate: '0.021',
      vat: '0.10',
      vatAmount: '0.10',
      refundId: null,
    });
    const neighbourInvoice = byRef.get(neighbour) as InvoiceBody;
    expect(neighbourInvoice.lines.map((l) => [l.amount, l.refundId])).toEqual(
      expect.arrayContaining([
        ['10.00', null],
        ['-4.00', refundId],
      ]),
    );
    expect(neighbourInvoice.total).toBe('6.00');

    for (const invoice of invoices) {
      expect(invoice.total).toBe(sum(invoice.lines.map((l) => l.amount)).toFixed(2));
      expect(invoice.vatTotal).toBe(
        sum(invoice.lines.map((l) => vatIncluded(new Decimal(l.amount), '0.021'))).toFixed(2),
      );
      for (const line of invoice.lines)
        expect(line.vat).toBe(vatIncluded(new Decimal(line.amount), '0.021').toFixed(2));
    }
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, [...holderBuys, childBuy, neighbourBuy], [refundId]);
    const untouched = await gw.ctx.database.prisma.purchase.findMany({ where: { id: { in: [lateBuy, outsiderBuy] } } });
    expect(untouched.map((p) => p.invoiceId)).toEqual([null, null]);
  });

  it('When a purchase billed in one run is refunded later, then the next run credits it on a credit note naming that invoice', async () => {
    const op = await createOperator(gw);
    const ref = await provision(gw, op);
    const first = await confirmed(assertion(op, ref), '5.00');
    const run1 = await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id);
    expect(run1).toMatchObject({ invoiceCount: 1, total: '5.00' });

    const refundId = await refund(gw, publisher.apiKey, first, '1.50');
    const second = await confirmed(assertion(op, ref), '2.00');
    const run2 = await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id);
    // v1.1: the run issues an invoice (2.00) and a credit note (-1.50) instead of one invoice netting to 0.50.
    expect(run2).toMatchObject({ invoiceCount: 2, total: '0.50' });
    const [firstInvoice] = await allInvoices(op, run1.id);
    const documents = await allInvoices(op, run2.id);
    const invoice = documents.find((d) => d.type === 'invoice');
    const creditNote = documents.find((d) => d.type === 'credit_note');
    expect(invoice).toMatchObject({ total: '2.00', correctsInvoiceId: null });
    expect(invoice?.lines.map((l) => [l.purchaseId, l.amount])).toEqual([[second, '2.00']]);
    expect(creditNote).toMatchObject({ total: '-1.50', vatTotal: '-0.03', correctsInvoiceId: firstInvoice?.id });
    expect(creditNote?.lines.map((l) => [l.purchaseId, l.amount, l.refundId, l.vat])).toEqual([
      [first, '-1.50', refundId, '-0.03'],
    ]);

    const run3 = await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id);
    expect(run3).toMatchObject({ invoiceCount: 0, total: '0.00' });
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, [first, second], [refundId]);
  });
});

describe('GET /v1/operator/invoices: pages and CSV', () => {
  let op: OperatorFixture;
  let runId: string;
  let lineCount = 0;

  beforeAll(async () => {
    op = await createOperator(gw);
    for (let i = 0; i < 5; i++) {
      const token = assertion(op, await provision(gw, op));
      await confirmed(token, '1.10', `Article "${i}", with a comma`);
      await confirmed(token, '0.90');
      lineCount += 2;
    }
    runId = (await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id)).id;
  });

  it('When invoices are read two at a time, then each appears once and the last page has no cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { data: InvoiceBody[]; nextCursor: string | null } } = await gw
        .api()
        .get('/v1/operator/invoices')
        .query({ billingRun: runId, limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(op.apiKey));
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((i) => i.id));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
  });

  it('When CSV is asked for, then there is a header and one row per invoice line, quoted where needed', async () => {
    const res = await gw
      .api()
      .get('/v1/operator/invoices')
      .query({ billingRun: runId })
      .set(bearer(op.apiKey))
      .set('Accept', 'text/csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.text.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'number,invoiceId,type,correctsInvoiceId,billingRunId,subscriberRef,status,lineId,publisherId,purchaseId,refundId,description,amount,vat,vatRate',
    );
    expect(lines).toHaveLength(lineCount + 1);
    expect(res.text).toContain('"Article ""0"", with a comma"');
    expect(lines.slice(1).every((l) => l.includes(runId))).toBe(true);
  });

  it('When the billingRun parameter is missing, then it is 400', async () => {
    const res = await gw.api().get('/v1/operator/invoices').set(bearer(op.apiKey));
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toHaveProperty('billingRun');
  });

  it('When another operator asks for this run, its invoices, its CSV or its settlement, then each is 404', async () => {
    const other = await createOperator(gw);
    const [invoice] = await allInvoices(op, runId);
    const answers = await Promise.all([
      gw.api().get(`/v1/operator/billing-runs/${runId}`).set(bearer(other.apiKey)),
      gw.api().get('/v1/operator/invoices').query({ billingRun: runId }).set(bearer(other.apiKey)),
      gw
        .api()
        .get('/v1/operator/invoices')
        .query({ billingRun: runId })
        .set(bearer(other.apiKey))
        .set('Accept', 'text/csv'),
      gw.api().get(`/v1/operator/billing-runs/${runId}/settlement`).set(bearer(other.apiKey)),
      gw.api().get(`/v1/operator/invoices/${invoice?.id}`).set(bearer(other.apiKey)),
      gw
        .api()
        .post(`/v1/operator/invoices/${invoice?.id}/outcome`)
        .set(bearer(other.apiKey))
        .send({ status: 'unpaid' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404, 404, 404]);
    const after = await gw.api().get(`/v1/operator/invoices/${invoice?.id}`).set(bearer(op.apiKey));
    expect(after.body.status).toBe('issued');
  });
});
