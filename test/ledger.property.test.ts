import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBillingRun, runBilling } from '../src/domain/billing.js';
import { commissionOn } from '../src/domain/commission.js';
import { Decimal } from '../src/domain/money.js';
import { unbalancedEntries } from './support/journal.js';
import {
  admin,
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  idemKey,
  provision,
  startTestGateway,
  type OperatorFixture,
  type PublisherFixture,
  type TestGateway,
} from './support/harness.js';
import { cents, portion, reportOutcome, type OutcomeKind } from './support/random-outcomes.js';

/**
 * Random histories of purchases, refunds, lost disputes, billing runs,
 * outcomes (paid, unpaid, partially paid) and payouts, each on a fresh
 * operator and publishers, then the ledger's promises checked to the cent.
 */
type Command =
  | { type: 'buy'; publisher: number; subscriber: number; cents: number }
  | { type: 'refund'; purchase: number; share: number }
  | { type: 'dispute'; purchase: number }
  | { type: 'run' }
  | { type: 'outcome'; invoice: number; kind: OutcomeKind; share: number }
  | { type: 'payout'; publisher: number; share: number };

const share = fc.integer({ min: 1, max: 99 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant('buy' as const),
      publisher: fc.nat(1),
      subscriber: fc.nat(1),
      cents: fc.integer({ min: 1, max: 1500 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('refund' as const), purchase: fc.nat(50), share }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('dispute' as const), purchase: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('run' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('outcome' as const),
      invoice: fc.nat(50),
      kind: fc.constantFrom('paid' as const, 'unpaid' as const, 'partially_paid' as const),
      share,
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('payout' as const), publisher: fc.nat(1), share }) },
);

let gw: TestGateway;
beforeAll(() => {
  gw = startTestGateway();
});
afterAll(() => gw.close());

interface World {
  op: OperatorFixture;
  publishers: PublisherFixture[];
  tokens: string[];
  purchases: { id: string; publisher: PublisherFixture; token: string }[];
  frozen: Map<string, unknown>;
}

async function billNow(world: World): Promise<void> {
  const run = await gw.ctx.database.transaction((sql) => createBillingRun(sql, world.op.id, new Date()));
  await runBilling(gw.ctx.database.pool, run.id);
  const rows = await gw.ctx.database.prisma.settlement.findMany({ where: { billingRunId: run.id } });
  for (const row of rows) world.frozen.set(`${row.billingRunId}:${row.publisherId}`, JSON.stringify(row));
}

async function perform(world: World, c: Command): Promise<void> {
  const api = gw.api();
  switch (c.type) {
    case 'buy': {
      const publisher = world.publishers[c.publisher] as PublisherFixture;
      const token = world.tokens[c.subscriber] as string;
      const { id, res } = await buy(gw, publisher, token, { amount: (c.cents / 100).toFixed(2) });
      if (res.status === 200) world.purchases.push({ id, publisher, token });
      return;
    }
    case 'refund': {
      const p = world.purchases[c.purchase % Math.max(world.purchases.length, 1)];
      if (!p) return;
      const row = await gw.ctx.database.prisma.purchase.findUniqueOrThrow({ where: { id: p.id } });
      const left = new Decimal(row.amount.toString())
        .minus(row.refundedAmount.toString())
        .minus(row.chargedBackAmount.toString());
      const amount = Decimal.max(portion(left, c.share), '0.01');
      await api
        .post(`/v1/purchases/${p.id}/refunds`)
        .set(bearer(p.publisher.apiKey))
        .set('Idempotency-Key', idemKey())
        .send({ amount: cents(amount) });
      return;
    }
    case 'dispute': {
      const p = world.purchases[c.purchase % Math.max(world.purchases.length, 1)];
      if (!p) return;
      const opened = await api
        .post('/v1/disputes')
        .set(bearer(p.token))
        .set('Idempotency-Key', idemKey())
        .send({ purchaseId: p.id, reason: 'not me' });
      if (opened.status !== 201) return;
      await gw
        .api()
        .post(`/v1/disputes/${opened.body.id}/response`)
        .set(bearer(p.publisher.apiKey))
        .send({ accept: true });
      return;
    }
    case 'run':
      return billNow(world);
    case 'outcome':
      return reportOutcome(gw, world.op, c);
    case 'payout': {
      const publisher = world.publishers[c.publisher] as PublisherFixture;
      const balance = await api.get('/v1/balance').set(bearer(publisher.apiKey));
      const amount = portion(new Decimal(balance.body.available), c.share);
      if (amount.lte(0)) return;
      const res = await gw
        .api()
        .post(`/v1/admin/publishers/${publisher.id}/payouts`)
        .set(admin)
        .set('Idempotency-Key', idemKey())
        .send({ amount: cents(amount) });
      expect(res.status).toBe(201);
      return;
    }
  }
}

async function checkLedger(world: World): Promise<void> {
  const db = gw.ctx.database.prisma;
  expect(await unbalancedEntries(db)).toEqual([]);

  // Nothing settled ever moved.
  for (const [key, snapshot] of world.frozen) {
    const [billingRunId, publisherId] = key.split(':') as [string, string];
    const now = await db.settlement.findUniqueOrThrow({
      where: { billingRunId_publisherId: { billingRunId, publisherId } },
    });
    expect(JSON.stringify(now)).toBe(snapshot);
  }

  for (const publisher of world.publishers) {
    const rows = await db.settlement.findMany({ where: { publisherId: publisher.id } });
    for (const r of rows) {
      expect(
        cents(
          new Decimal(r.commission.toString())
            .plus(r.net.toString())
            .plus(r.refunds.toString())
            .plus(r.chargebacks.toString()),
        ),
      ).toBe(cents(new Decimal(r.gross.toString())));
    }
    const total = (f: 'gross' | 'commission' | 'refunds' | 'chargebacks' | 'net') =>
      rows.reduce((s, r) => s.plus(r[f].toString()), new Decimal(0));

    // Every purchase billed and every event settled by the last run: the runs add up to each purchase's life.
    const purchases = await db.purchase.findMany({
      where: { publisherId: publisher.id, status: { in: ['confirmed', 'refunded', 'disputed'] } },
    });
    let gross = new Decimal(0);
    let refunded = new Decimal(0);
    let chargedBack = new Decimal(0);
    let commission = new Decimal(0);
    for (const p of purchases) {
      expect(p.invoiceId).not.toBeNull();
      const kept = commissionOn(
        new Decimal(p.amount.toString()).minus(p.refundedAmount.toString()).minus(p.chargedBackAmount.toString()),
        new Decimal(p.commissionRate?.toString() ?? '0'),
      );
      expect(cents(new Decimal(p.commissionAmount?.toString() ?? '0'))).toBe(cents(kept));
      gross = gross.plus(p.amount.toString());
      refunded = refunded.plus(p.refundedAmount.toString());
      chargedBack = chargedBack.plus(p.chargedBackAmount.toString());
      commission = commission.plus(kept);
    }
    expect([total('gross'), total('refunds'), total('chargebacks'), total('commission')].map(cents)).toEqual(
      [gross, refunded, chargedBack, commission].map(cents),
    );

    // Settled net less payouts is the publisher's ledger balance, and what /v1/balance says.
    const balance = (await gw.api().get('/v1/balance').set(bearer(publisher.apiKey))).body;
    const paidOut = (await db.payout.findMany({ where: { publisherId: publisher.id } })).reduce(
      (s, p) => s.plus(p.amount.toString()),
      new Decimal(0),
    );
    expect(balance).toEqual({
      settled: cents(total('net')),
      paidOut: cents(paidOut),
      available: cents(total('net').minus(paidOut)),
    });
    const ledger = await db.$queryRaw<{ balance: string }[]>`
      SELECT COALESCE(-sum(amount), 0)::text AS balance FROM ledger_postings WHERE account = ${`publisher:${publisher.id}:payable`}`;
    expect(cents(new Decimal(ledger[0]?.balance ?? '0'))).toBe(balance.available);
  }

  for (const run of await db.billingRun.findMany({ where: { operatorId: world.op.id } })) {
    const rec = (await gw.api().get(`/v1/operator/billing-runs/${run.id}/reconciliation`).set(bearer(world.op.apiKey)))
      .body;
    expect(cents(new Decimal(rec.collected).plus(rec.uncollected).plus(rec.outstanding))).toBe(rec.billed);
  }
}

describe('The ledger under random histories', () => {
  it('When purchases, refunds, disputes, runs, outcomes and payouts come in any order, then every identity holds to the cent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 18 }), async (commands) => {
        const op = await createOperator(gw, { limits: { perPurchase: '50.00', weekly: '300.00', monthly: '300.00' } });
        const world: World = {
          op,
          publishers: [
            await createPublisher(gw, { commissionRates: { isp: '0.15' } }),
            await createPublisher(gw, { category: 'games', commissionRates: { isp: '0.1234' } }),
          ],
          tokens: [assertion(op, await provision(gw, op)), assertion(op, await provision(gw, op))],
          purchases: [],
          frozen: new Map(),
        };
        for (const c of commands) await perform(world, c);
        // A last run settles whatever is still pending, so every purchase's whole life is in the settlements.
        await billNow(world);
        await checkLedger(world);
      }),
      { numRuns: 10 },
    );
  }, 120_000);
});
