import { describe, expect, it } from 'vitest';
import { DEFAULT_BILLING_DRIVE, runBilling } from '../src/domain/billing.js';
import { Decimal } from '../src/shared/money.js';
import { refund } from './support/billing.js';
import {
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  provision,
  type OperatorFixture,
} from './support/harness.js';
import { openBillingRun } from './support/rows.js';
import { useGateway } from './support/world.js';

const gw = useGateway();

async function billNow(op: OperatorFixture, chunkPayers = 2_000): Promise<string> {
  const runId = await openBillingRun(gw, op.id);
  const outcome = await runBilling(gw.ctx.database, runId, { ...DEFAULT_BILLING_DRIVE, chunkPayers, pollMs: 20 });
  expect(outcome.status).toBe('done');
  return runId;
}

interface Doc {
  id: string;
  correctsInvoiceId: string | null;
  status: string;
  number: string;
  type: string;
  total: string;
  vatTotal: string;
  vatBreakdown: { rate: string; base: string; vat: string }[];
  lines: { amount: string; vat: string; vatRate: string; purchaseId: string; refundId: string | null }[];
}

async function documents(op: OperatorFixture, billingRunId: string): Promise<Doc[]> {
  const res = await gw
    .api()
    .get('/v1/operator/invoices')
    .query({ billingRun: billingRunId, limit: 200 })
    .set(bearer(op.apiKey));
  expect(res.status).toBe(200);
  return res.body.data;
}

describe('Credit notes never over-credit VAT', () => {
  it('When a 0.15 purchase invoiced with 0.02 VAT is refunded 0.05 then 0.10 over two runs, then its credit notes credit 0.02 in all', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const token = assertion(op, await provision(gw, op));
    const { id, res } = await buy(gw, publisher, token, { amount: '0.15', vatRate: '0.20' });
    expect(res.status).toBe(200);
    const [invoice] = await documents(op, await billNow(op));
    expect(invoice?.vatTotal).toBe('0.02');

    await refund(gw, publisher.apiKey, id, '0.05');
    const [first] = await documents(op, await billNow(op));
    await refund(gw, publisher.apiKey, id, '0.10');
    const [second] = await documents(op, await billNow(op));

    expect([first?.type, second?.type]).toEqual(['credit_note', 'credit_note']);
    expect([first?.vatTotal, second?.vatTotal]).toEqual(['-0.01', '-0.01']);
    expect([first?.lines[0]?.vat, second?.lines[0]?.vat]).toEqual(['-0.01', '-0.01']);
  });
});

const NUMBER = /^(\d{4})-([A-Z0-9]{1,10})-(\d{6,})$/;

function parseNumber(number: string): { year: number; code: string; n: number } {
  const match = NUMBER.exec(number);
  if (!match) throw new Error(`${number} is no document number`);
  return { year: Number(match[1]), code: match[2] as string, n: Number(match[3]) };
}

describe('Document numbers', () => {
  it('When two operators bill in chunks run side by side, then each one numbers its documents 1, 2, 3… under its own code', async () => {
    const [a, b] = [await createOperator(gw), await createOperator(gw)];
    const publisher = await createPublisher(gw);
    for (const op of [a, b]) {
      for (let i = 0; i < 5; i++) {
        const token = assertion(op, await provision(gw, op));
        expect((await buy(gw, publisher, token, { amount: '1.00' })).res.status).toBe(200);
      }
    }
    const [runA, runB] = await Promise.all([billNow(a, 2), billNow(b, 2)]);
    const codes = new Set<string>();
    for (const [op, runId] of [
      [a, runA],
      [b, runB],
    ] as const) {
      const numbers = (await documents(op, runId)).map((d) => parseNumber(d.number));
      expect(numbers).toHaveLength(5);
      expect(new Set(numbers.map((x) => x.code)).size).toBe(1);
      expect(
        numbers.every((x) => x.year === new Date().getUTCFullYear() || x.year === new Date().getUTCFullYear() + 1),
      ).toBe(true);
      expect(numbers.map((x) => x.n).sort((p, q) => p - q)).toEqual([1, 2, 3, 4, 5]);
      codes.add(numbers[0]?.code as string);
    }
    expect(codes.size).toBe(2);
  });

  it('When a later run issues a credit note, then it takes the next number, and GET /v1/operator/invoices/:id shows it', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const token = assertion(op, await provision(gw, op));
    const { id } = await buy(gw, publisher, token, { amount: '3.00' });
    const [invoice] = await documents(op, await billNow(op));
    await refund(gw, publisher.apiKey, id, '1.00');
    const [credit] = await documents(op, await billNow(op));
    expect([parseNumber(invoice?.number as string).n, parseNumber(credit?.number as string).n]).toEqual([1, 2]);
    const one = await gw.api().get(`/v1/operator/invoices/${credit?.id}`).set(bearer(op.apiKey));
    expect(one.body).toMatchObject({ number: credit?.number, type: 'credit_note', correctsInvoiceId: invoice?.id });
  });
});

describe('Numbers and codes never change', () => {
  it('When a numbered document or an operator code is rewritten, then the database refuses it', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw);
    await buy(gw, publisher, assertion(op, await provision(gw, op)), { amount: '1.00' });
    const [doc] = await documents(op, await billNow(op));
    await expect(
      gw.ctx.database.pool.query('UPDATE invoices SET number = $2 WHERE id = $1', [doc?.id, '2026-X-000001']),
    ).rejects.toThrow(/keeps its number/);
    await expect(
      gw.ctx.database.pool.query("UPDATE operators SET document_code = 'X' WHERE id = $1", [op.id]),
    ).rejects.toThrow(/keeps its document code/);
    const { rows } = await gw.ctx.database.pool.query<{ number: string }>('SELECT number FROM invoices WHERE id = $1', [
      doc?.id,
    ]);
    expect(rows[0]?.number).toBe(doc?.number);
  });
});

describe('VAT per rate', () => {
  it('When an invoice mixes 2.1% and 20% and a credit note follows, then each carries one entry per rate adding up to its totals', async () => {
    const op = await createOperator(gw);
    const press = await createPublisher(gw, { category: 'press' });
    const games = await createPublisher(gw, { category: 'games' });
    const token = assertion(op, await provision(gw, op));
    const article = await buy(gw, press, token, { amount: '1.50' });
    await buy(gw, games, token, { amount: '4.99' });
    await buy(gw, games, token, { amount: '2.00' });
    const [invoice] = await documents(op, await billNow(op));
    expect(invoice?.vatBreakdown).toEqual([
      { rate: '0.021', base: '1.47', vat: '0.03' },
      { rate: '0.20', base: '5.83', vat: '1.16' },
    ]);
    await refund(gw, press.apiKey, article.id, '0.50');
    const [credit] = await documents(op, await billNow(op));
    for (const doc of [invoice, credit] as Doc[]) {
      const sums = doc.vatBreakdown.reduce(
        (s, e) => ({ total: s.total.plus(e.base).plus(e.vat), vat: s.vat.plus(e.vat) }),
        { total: new Decimal(0), vat: new Decimal(0) },
      );
      expect([sums.total.toFixed(2), sums.vat.toFixed(2)]).toEqual([doc.total, doc.vatTotal]);
    }
    expect(credit?.vatBreakdown).toEqual([{ rate: '0.021', base: '-0.49', vat: '-0.01' }]);
  });
});

describe('Chargebacks on purchases', () => {
  it('When an invoice is reported unpaid, then its purchase answers chargedBackAmount beside refundedAmount', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const token = assertion(op, await provision(gw, op));
    const { id } = await buy(gw, publisher, token, { amount: '2.50' });
    await refund(gw, publisher.apiKey, id, '0.50');
    const [invoice] = await documents(op, await billNow(op));
    const before = await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey));
    expect(before.body).toMatchObject({ refundedAmount: '0.50', chargedBackAmount: '0.00' });
    const outcome = await gw
      .api()
      .post(`/v1/operator/invoices/${invoice?.id}/outcome`)
      .set(bearer(op.apiKey))
      .send({ status: 'unpaid' });
    expect(outcome.status).toBe(200);
    const after = await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey));
    expect(after.body).toMatchObject({ refundedAmount: '0.50', chargedBackAmount: '2.00' });
  });
});

describe('GET /v1/operator/billing-runs', () => {
  it('When an operator lists its runs, then it gets its own only, newest first, page by page', async () => {
    const [op, other] = [await createOperator(gw), await createOperator(gw)];
    const ids = [await billNow(op), await billNow(op), await billNow(op)];
    await billNow(other);
    const first = await gw.api().get('/v1/operator/billing-runs').query({ limit: 2 }).set(bearer(op.apiKey));
    expect(first.status).toBe(200);
    expect(first.body.data.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.data[0]).toMatchObject({ object: 'billing_run', status: 'done' });
    const second = await gw
      .api()
      .get('/v1/operator/billing-runs')
      .query({ limit: 2, cursor: first.body.nextCursor })
      .set(bearer(op.apiKey));
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    const bad = await gw.api().get('/v1/operator/billing-runs').query({ limit: 0 }).set(bearer(op.apiKey));
    expect(bad.status).toBe(400);
    const publisher = await createPublisher(gw);
    expect((await gw.api().get('/v1/operator/billing-runs').set(bearer(publisher.apiKey))).status).toBe(403);
  });
});

describe('The invoices CSV', () => {
  it('When a run holds an invoice and a credit note, then the CSV has the fixed columns, spelled and valued as the JSON', async () => {
    const op = await createOperator(gw);
    const press = await createPublisher(gw, { category: 'press' });
    const token = assertion(op, await provision(gw, op));
    const first = await buy(gw, press, token, { amount: '2.00' });
    await billNow(op);
    await refund(gw, press.apiKey, first.id, '1.00');
    await buy(gw, press, token, { amount: '3.00' });
    const runId = await billNow(op);
    const json = await documents(op, runId);
    const csv = await gw
      .api()
      .get('/v1/operator/invoices')
      .query({ billingRun: runId })
      .set(bearer(op.apiKey))
      .set('Accept', 'text/csv');
    const [header, ...rows] = csv.text
      .trimEnd()
      .split('\n')
      .map((line) => line.split(','));
    expect(header?.join(',')).toBe(
      'number,invoiceId,type,correctsInvoiceId,billingRunId,subscriberRef,status,lineId,publisherId,purchaseId,refundId,description,amount,vat,vatRate',
    );
    const expected = json.flatMap((doc) =>
      doc.lines.map((line) => [doc.number, doc.id, doc.type, doc.correctsInvoiceId ?? '', line.vat, line.vatRate]),
    );
    const at = (name: string) => (header as string[]).indexOf(name);
    const seen = rows.map((r) =>
      ['number', 'invoiceId', 'type', 'correctsInvoiceId', 'vat', 'vatRate'].map((c) => r[at(c)]),
    );
    expect(seen.sort()).toEqual(expected.sort());
    expect(new Set(rows.map((r) => r[at('vatRate')]))).toEqual(new Set(['0.021']));
    expect(new Set(rows.map((r) => r[at('status')]))).toEqual(new Set(['issued']));
    expect(json.map((d) => d.type).sort()).toEqual(['credit_note', 'invoice']);

    // The reconciliation CSV spells an invoice with no outcome yet as its JSON does.
    const reconciliation = await gw
      .api()
      .get(`/v1/operator/billing-runs/${runId}/reconciliation`)
      .set(bearer(op.apiKey))
      .set('Accept', 'text/csv');
    const [recHeader, ...recRows] = reconciliation.text
      .trimEnd()
      .split('\n')
      .map((line) => line.split(','));
    const status = (recHeader as string[]).indexOf('status');
    expect(new Set(recRows.map((r) => r[status]))).toEqual(new Set(json.map((d) => d.status)));
  });
});
