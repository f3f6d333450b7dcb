import { beforeAll, describe, expect, it } from 'vitest';
import { sum } from './support/money.js';
import { useBillingHarness, postBillingRun, refund, waitForRun } from './support/billing.js';
import {
  admin,
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  idemKey,
  provision,
  unique,
  type OperatorFixture,
  type PublisherFixture,
} from './support/harness.js';
import { ledgerEntry, purchaseRows } from './support/rows.js';
import { useGateway } from './support/world.js';

interface Doc {
  id: string;
  type: string;
  correctsInvoiceId: string | null;
  subscriberRef: string;
  status: string;
  total: string;
  vatTotal: string;
  collected: string | null;
  lines: { amount: string; vatRate: string; vat: string; purchaseId: string; refundId: string | null }[];
}

const gw = useGateway({ queuePrefix: unique('q-money') });
useBillingHarness(gw, { worker: true });

async function run(op: OperatorFixture): Promise<string> {
  const posted = await postBillingRun(gw, op);
  expect(posted.status).toBe(202);
  const done = await waitForRun(gw, op, posted.body.id);
  expect(done.status).toBe('done');
  return done.id;
}

async function documents(op: OperatorFixture, runId: string): Promise<Doc[]> {
  const res = await gw
    .api()
    .get('/v1/operator/invoices')
    .query({ billingRun: runId, limit: 200 })
    .set(bearer(op.apiKey));
  expect(res.status).toBe(200);
  return res.body.data;
}

const outcome = (op: OperatorFixture, id: string, body: Record<string, unknown>) =>
  gw.api().post(`/v1/operator/invoices/${id}/outcome`).set(bearer(op.apiKey)).send(body);

const settlementOf = async (op: OperatorFixture, runId: string) =>
  (await gw.api().get(`/v1/operator/billing-runs/${runId}/settlement`).set(bearer(op.apiKey))).body.data as Record<
    string,
    string
  >[];

describe('VAT by product', () => {
  it('When a press publisher sells at 2.88, then the purchase and its invoice line carry 2.1% VAT, and an override wins', async () => {
    const op = await createOperator(gw);
    const press = await createPublisher(gw, { category: 'press' });
    const games = await createPublisher(gw, { category: 'games' });
    const token = assertion(op, await provision(gw, op));
    const article = await buy(gw, press, token, { amount: '2.88' });
    expect(article.res.body).toMatchObject({ vatRate: '0.021', vatAmount: '0.06' });
    const ebook = await buy(gw, press, token, { amount: '2.88', vatRate: '0.055' });
    expect(ebook.res.body).toMatchObject({ vatRate: '0.055', vatAmount: '0.15' });
    const gems = await buy(gw, games, token, { amount: '2.88' });
    expect(gems.res.body).toMatchObject({ vatRate: '0.20', vatAmount: '0.48' });

    const [invoice] = await documents(op, await run(op));
    const byPurchase = new Map(invoice?.lines.map((l) => [l.purchaseId, [l.vatRate, l.vat]]));
    expect(byPurchase.get(article.id)).toEqual(['0.021', '0.06']);
    expect(byPurchase.get(ebook.id)).toEqual(['0.055', '0.15']);
    expect(byPurchase.get(gems.id)).toEqual(['0.20', '0.48']);
    expect(invoice?.vatTotal).toBe('0.69');
  });

  it('When a publisher is created with a VAT rate outside the four French rates, then it is 400 naming vatRate', async () => {
    const res = await gw
      .api()
      .post('/v1/admin/publishers')
      .set(admin)
      .send({ name: 'X', category: 'press', vatRate: '0.19' });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toHaveProperty('vatRate');
    const ok = await gw
      .api()
      .post('/v1/admin/publishers')
      .set(admin)
      .send({ name: 'Y', category: 'press', vatRate: '0.20' });
    expect(ok.body.vatRate).toBe('0.20');
  });
});

describe('Partially paid outcomes', () => {
  let op: OperatorFixture;
  let publisher: PublisherFixture;
  let runId: string;
  let invoice: Doc;
  let buys: string[];

  beforeAll(async () => {
    op = await createOperator(gw);
    publisher = await createPublisher(gw, { commissionRates: { isp: '0.15' } });
    const token = assertion(op, await provision(gw, op));
    buys = [];
    for (const amount of ['1.00', '1.00', '1.00']) buys.push((await buy(gw, publisher, token, { amount })).id);
    runId = await run(op);
    [invoice] = (await documents(op, runId)) as [Doc];
  });

  it('When collected is not strictly between 0.00 and the total, then it is 400 naming collected and nothing changes', async () => {
    for (const collected of ['0.00', '3.00', '3.50']) {
      const res = await outcome(op, invoice.id, { status: 'partially_paid', collected });
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields).toHaveProperty('collected');
    }
    expect((await outcome(op, invoice.id, { status: 'partially_paid' })).status).toBe(400);
    expect((await outcome(op, invoice.id, { status: 'paid', collected: '1.00' })).status).toBe(400);
    const purchases = await purchaseRows(gw, buys);
    expect(purchases.every((p) => p.chargedBackAmount.isZero())).toBe(true);
  });

  it('When 2.00 of 3.00 is collected, then 1.00 is charged back by largest remainder, to the cent, and the outcome is final', async () => {
    const res = await outcome(op, invoice.id, { status: 'partially_paid', collected: '2.00' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'partially_paid', collected: '2.00' });
    const purchases = await purchaseRows(gw, buys);
    expect(purchases.map((p) => p.chargedBackAmount.toFixed(2))).toEqual(['0.34', '0.33', '0.33']);
    // Commission on what was collected, per purchase: 0.66 × 0.15 = 0.099 → 0.10, 0.67 × 0.15 = 0.1005 → 0.10.
    expect(purchases.map((p) => p.commissionAmount?.toFixed(2))).toEqual(['0.10', '0.10', '0.10']);

    const again = await outcome(op, invoice.id, { status: 'partially_paid', collected: '2.00' });
    expect(again.status).toBe(200);
    expect(again.body.outcomeAt).toBe(res.body.outcomeAt);
    for (const other of [{ status: 'paid' }, { status: 'unpaid' }, { status: 'partially_paid', collected: '1.00' }]) {
      const refused = await outcome(op, invoice.id, other);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('invalid_state');
    }
  });

  it('When the reconciliation is read, then billed = collected + uncollected + outstanding, in JSON and CSV', async () => {
    const res = await gw.api().get(`/v1/operator/billing-runs/${runId}/reconciliation`).set(bearer(op.apiKey));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      billed: '3.00',
      collected: '2.00',
      uncollected: '1.00',
      outstanding: '0.00',
      credited: '0.00',
      invoices: { paid: 0, partially_paid: 1, unpaid: 0, open: 0 },
    });
    const csv = await gw
      .api()
      .get(`/v1/operator/billing-runs/${runId}/reconciliation`)
      .set(bearer(op.apiKey))
      .set('Accept', 'text/csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trimEnd().split('\n');
    expect(lines[0]).toBe('invoiceId,type,subscriberRef,total,vatTotal,status,collected');
    expect(lines[1]).toBe(
      `${invoice.id},invoice,${invoice.subscriberRef},3.00,${invoice.vatTotal},partially_paid,2.00`,
    );
    const other = await createOperator(gw);
    expect(
      (await gw.api().get(`/v1/operator/billing-runs/${runId}/reconciliation`).set(bearer(other.apiKey))).status,
    ).toBe(404);
  });
});

describe('Credit notes', () => {
  it('When a billed purchase is refunded, then the next run issues a credit note that takes no outcome and is reconciled as credited', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const token = assertion(op, await provision(gw, op));
    const { id } = await buy(gw, publisher, token, { amount: '5.00' });
    const first = await run(op);
    const [charged] = await documents(op, first);
    await refund(gw, publisher.apiKey, id, '2.00');
    const second = await run(op);
    const [creditNote] = await documents(op, second);
    expect(creditNote).toMatchObject({ type: 'credit_note', correctsInvoiceId: charged?.id, total: '-2.00' });
    const refused = await outcome(op, creditNote?.id as string, { status: 'paid' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('invalid_state');
    const rec = await gw.api().get(`/v1/operator/billing-runs/${second}/reconciliation`).set(bearer(op.apiKey));
    expect(rec.body).toMatchObject({ billed: '0.00', credited: '-2.00', outstanding: '0.00' });
  });
});

describe('Publisher settlements, balance and payouts', () => {
  it('When a publisher reads its settlements and balance and is paid out, then each equals the operator view and the ledger', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw, { commissionRates: { isp: '0.10' } });
    const token = assertion(op, await provision(gw, op));
    await buy(gw, publisher, token, { amount: '20.00' });
    const first = await run(op);
    const second = (await buy(gw, publisher, token, { amount: '10.00' }), await run(op));

    const mine = await gw.api().get('/v1/settlements').set(bearer(publisher.apiKey));
    expect(mine.status).toBe(200);
    expect(mine.body.data.map((r: { billingRunId: string }) => r.billingRunId)).toEqual([second, first]);
    for (const row of mine.body.data) {
      const [operatorRow] = await settlementOf(op, row.billingRunId);
      const { publisherId: _p, ...money } = operatorRow as Record<string, string>;
      expect(row).toEqual({
        billingRunId: row.billingRunId,
        operatorId: op.id,
        sandbox: false,
        through: expect.any(String),
        ...money,
      });
    }
    expect(mine.body.data.map((r: { net: string }) => r.net)).toEqual(['9.00', '18.00']);
    const firstPage = await gw.api().get('/v1/settlements').query({ limit: 1 }).set(bearer(publisher.apiKey));
    expect(firstPage.body.nextCursor).toBe(second);

    // Collected before available (v1.2): the operator reports both invoices paid.
    for (const runId of [first, second]) {
      for (const doc of await documents(op, runId))
        expect((await outcome(op, doc.id, { status: 'paid' })).status).toBe(200);
    }
    const pay = (amount: string, key = idemKey()) =>
      gw
        .api()
        .post(`/v1/admin/publishers/${publisher.id}/payouts`)
        .set(admin)
        .set('Idempotency-Key', key)
        .send({ amount });
    expect(
      (await gw.api().post(`/v1/admin/publishers/${publisher.id}/payouts`).set(admin).send({ amount: '1.00' })).status,
    ).toBe(400);
    const key = idemKey();
    const paid = await pay('25.00', key);
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ publisherId: publisher.id, amount: '25.00' });
    expect((await pay('25.00', key)).text).toBe(paid.text);
    const over = await pay('2.01');
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('invalid_state');

    const balance = await gw.api().get('/v1/balance').set(bearer(publisher.apiKey));
    expect(balance.body).toEqual({ pending: '0.00', available: '2.00', settled: '27.00', paidOut: '25.00' });
    const ledger = await gw.api().get('/v1/admin/ledger/balances').set(admin);
    expect(ledger.status).toBe(200);
    expect(ledger.body.totalDebit).toBe(ledger.body.totalCredit);
    const payable = ledger.body.accounts.find(
      (a: { account: string }) => a.account === `publisher:${publisher.id}:payable`,
    );
    // Credited by each settlement and each outcome's release, debited by the pending part and the payout.
    expect(payable).toMatchObject({ balance: '2.00', credit: '54.00', debit: '52.00' });
    // Totals are in euros: Kiosque Points accounts (unit PTS) balance among themselves.
    const euros = ledger.body.accounts.filter((a: { unit: string }) => a.unit === 'EUR');
    expect(sum(euros.map((a: { debit: string }) => a.debit)).toFixed(2)).toBe(ledger.body.totalDebit);
    // What was reported stays put: the database refuses to rewrite a settlement or a payout.
    await expect(
      gw.ctx.database.prisma.$executeRaw`UPDATE settlements SET net = 0 WHERE publisher_id = ${publisher.id}`,
    ).rejects.toThrow(/append-only/);
    await expect(
      gw.ctx.database.prisma.$executeRaw`DELETE FROM payouts WHERE publisher_id = ${publisher.id}`,
    ).rejects.toThrow(/append-only/);
    expect((await gw.api().get('/v1/balance').set(bearer(op.apiKey))).status).toBe(403);
    expect((await gw.api().get('/v1/admin/ledger/balances').set(bearer(publisher.apiKey))).status).toBe(403);
  });
});

describe('docs/money.md, the worked example', () => {
  it('When 10.00 and 4.00 are bought, 1.00 refunded, 12.00 of 13.00 collected and 10.20 paid out, then every figure is the one the doc shows', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw, { category: 'press', commissionRates: { isp: '0.15' } });
    const token = assertion(op, await provision(gw, op));
    await buy(gw, publisher, token, { amount: '10.00' });
    const small = (await buy(gw, publisher, token, { amount: '4.00' })).id;
    await refund(gw, publisher.apiKey, small, '1.00');
    const run1 = await run(op);
    const [inv1] = await documents(op, run1);
    expect(inv1).toMatchObject({ total: '13.00', vatTotal: '0.27' });
    expect(inv1?.lines.map((l) => l.vat).sort()).toEqual(['-0.02', '0.08', '0.21']);
    const entry = async (key: string) =>
      (await ledgerEntry(gw, key)).postings
        .map((p) => [p.account.replace(op.id, 'op').replace(publisher.id, 'pub'), p.amount.toFixed(2)])
        .sort();
    expect(await entry(`invoice:${inv1?.id}`)).toEqual(
      [
        ['operator:op:receivable', '13.00'],
        ['unsettled:op:pub:sales', '-14.00'],
        ['unsettled:op:pub:refunds', '1.00'],
        ['unsettled:op:pub:commission', '1.95'],
        ['kiosque:commission', '-1.95'],
      ].sort(),
    );
    expect(await settlementOf(op, run1)).toEqual([
      {
        publisherId: publisher.id,
        gross: '14.00',
        commission: '1.95',
        refunds: '1.00',
        chargebacks: '0.00',
        pointsIssuedValue: '0.00',
        pointsRedeemedValue: '0.00',
        net: '11.05',
      },
    ]);

    expect((await outcome(op, inv1?.id as string, { status: 'partially_paid', collected: '12.00' })).status).toBe(200);
    expect(await entry(`outcome:${inv1?.id}`)).toEqual(
      [
        ['operator:op:collected', '12.00'],
        ['operator:op:receivable', '-13.00'],
        ['unsettled:op:pub:chargebacks', '1.00'],
        ['kiosque:commission', '0.15'],
        ['unsettled:op:pub:commission', '-0.15'],
      ].sort(),
    );
    const run2 = await run(op);
    expect(await settlementOf(op, run2)).toEqual([
      {
        publisherId: publisher.id,
        gross: '0.00',
        commission: '-0.15',
        refunds: '0.00',
        chargebacks: '1.00',
        pointsIssuedValue: '0.00',
        pointsRedeemedValue: '0.00',
        net: '-0.85',
      },
    ]);

    const pay = (amount: string) =>
      gw
        .api()
        .post(`/v1/admin/publishers/${publisher.id}/payouts`)
        .set(admin)
        .set('Idempotency-Key', idemKey())
        .send({ amount });
    expect((await pay('10.20')).status).toBe(201);
    expect((await gw.api().get('/v1/balance').set(bearer(publisher.apiKey))).body).toEqual({
      pending: '0.00',
      available: '0.00',
      settled: '10.20',
      paidOut: '10.20',
    });
    expect((await pay('0.01')).status).toBe(409);
  });
});
