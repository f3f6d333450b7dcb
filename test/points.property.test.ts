import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBillingRun, runBilling } from '../src/domain/billing.js';
import { sweepPoints } from '../src/domain/household-points.js';
import { Decimal } from '../src/shared/money.js';
import { pointsKept } from '../src/domain/points.js';
import { pointsAccounts } from '../src/shared/accounts.js';
import { accountBalance, unbalancedEntries } from './support/journal.js';
import {
  admin,
  assertion,
  bearer,
  createOperator,
  createPublisher,
  createPurchase,
  idemKey,
  provision,
  type OperatorFixture,
  type PublisherFixture,
} from './support/harness.js';
import { cents, portion, reportOutcome, type OutcomeKind } from './support/random-outcomes.js';
import { useGateway } from './support/world.js';
import { purchaseRow, subscriberRow } from './support/rows.js';

/**
 * Random histories of purchases that earn and spend points, refunds, lost
 * disputes, unpaid and partly paid bills, billing runs and sweeps on a clock
 * moved days or months ahead, each on a fresh operator, then the points
 * journal and every settlement identity checked.
 */
type Command =
  | { type: 'buy'; publisher: number; subscriber: number; cents: number; spendShare: number }
  | { type: 'refund'; purchase: number; share: number }
  | { type: 'dispute'; purchase: number }
  | { type: 'run' }
  | { type: 'outcome'; invoice: number; kind: OutcomeKind; share: number }
  | { type: 'advance'; days: number };

const share = fc.integer({ min: 1, max: 99 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('buy' as const),
      publisher: fc.nat(1),
      subscriber: fc.nat(1),
      cents: fc.integer({ min: 1, max: 2000 }),
      spendShare: fc.integer({ min: 0, max: 100 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('refund' as const), purchase: fc.nat(50), share }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('dispute' as const), purchase: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('run' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('outcome' as const),
      invoice: fc.nat(50),
      kind: fc.constantFrom('paid' as const, 'unpaid' as const, 'partially_paid' as const),
      share,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constant('advance' as const), days: fc.constantFrom(1, 15, 200, 380) }),
  },
);

const DAY_MS = 24 * 60 * 60 * 1000;
const POINT_VALUE = new Decimal('0.01');

const gw = useGateway();

interface World {
  op: OperatorFixture;
  publishers: PublisherFixture[];
  /** A holder and its child, who may spend the household's points. */
  tokens: string[];
  holderId: string;
  purchases: { id: string; publisher: PublisherFixture; token: string }[];
  frozen: Map<string, string>;
  /** Days the sweeps' clock runs ahead of the wall clock; only ever moves forward. */
  aheadDays: number;
}

async function billNow(world: World): Promise<void> {
  const run = await gw.ctx.database.transaction((sql) => createBillingRun(sql, world.op.id, new Date()));
  await runBilling(gw.ctx.database, run.id);
  const rows = await gw.ctx.database.prisma.settlement.findMany({ where: { billingRunId: run.id } });
  for (const row of rows) world.frozen.set(`${row.billingRunId}:${row.publisherId}`, JSON.stringify(row));
}

async function perform(world: World, c: Command): Promise<void> {
  const api = gw.api();
  switch (c.type) {
    case 'buy': {
      const publisher = world.publishers[c.publisher] as PublisherFixture;
      const token = world.tokens[c.subscriber] as string;
      const amount = new Decimal(c.cents).dividedBy(100);
      const { available } = (await api.get('/v1/me/points').set(bearer(token))).body as { available: number };
      const fit = Math.min(available, amount.dividedBy(POINT_VALUE).floor().toNumber());
      const points = Math.floor((fit * c.spendShare) / 100);
      const { id } = await createPurchase(gw, publisher, { amount: amount.toFixed(2) });
      const res = await api.post(`/v1/purchases/${id}/confirm`).set(bearer(token)).send({ points });
      if (res.status === 200) world.purchases.push({ id, publisher, token });
      else expect(res.status).toBe(402);
      return;
    }
    case 'refund': {
      const p = world.purchases[c.purchase % Math.max(world.purchases.length, 1)];
      if (!p) return;
      const row = await purchaseRow(gw, p.id);
      const left = new Decimal(row.amount.toString())
        .minus(row.refundedAmount.toString())
        .minus(row.chargedBackAmount.toString());
      if (left.lte(0)) return;
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
      const opened = await api.post('/v1/disputes').set(bearer(p.token)).send({ purchaseId: p.id, reason: 'not me' });
      if (opened.status !== 201) return;
      await api.post(`/v1/disputes/${opened.body.id}/response`).set(bearer(p.publisher.apiKey)).send({ accept: true });
      return;
    }
    case 'run':
      return billNow(world);
    case 'outcome':
      return reportOutcome(gw, world.op, c);
    case 'advance': {
      world.aheadDays += c.days;
      const now = new Date(Date.now() + world.aheadDays * DAY_MS);
      await sweepPoints(gw.ctx.database, now, 1000, { operatorIds: [world.op.id] });
      // Run twice, the sweep finds nothing left to do.
      expect(await sweepPoints(gw.ctx.database, now, 1000, { operatorIds: [world.op.id] })).toMatchObject({
        matured: 0,
        expired: 0,
      });
      return;
    }
  }
}

async function checkPoints(world: World): Promise<void> {
  const db = gw.ctx.database.prisma;
  expect(await unbalancedEntries(db)).toEqual([]);
  for (const [key, snapshot] of world.frozen) {
    const [billingRunId, publisherId] = key.split(':') as [string, string];
    const row = await db.settlement.findUniqueOrThrow({
      where: { billingRunId_publisherId: { billingRunId, publisherId } },
    });
    expect(JSON.stringify(row)).toBe(snapshot);
  }

  const pts = async (account: string) => (await accountBalance(gw.ctx.database.sql, account, 'PTS')).toNumber();
  const available = 0 - (await pts(pointsAccounts.available(world.holderId)));
  const pending = 0 - (await pts(pointsAccounts.pending(world.holderId)));
  const owed = await pts(pointsAccounts.owed(world.holderId));
  expect(Math.min(available, pending, owed)).toBeGreaterThanOrEqual(0);
  if (owed > 0) expect(available).toBe(0);
  const issued = await pts(pointsAccounts.issued(world.op.id));
  const redeemed = 0 - (await pts(pointsAccounts.redeemed(world.op.id)));
  const expired = 0 - (await pts(pointsAccounts.expired(world.op.id)));
  // No point made or lost: what was issued is held, owed back, spent or expired.
  expect(issued).toBe(available + pending - owed + redeemed + expired);
  // The euro liability is the value of what the household holds, at the one point value used here.
  const liability = (await accountBalance(gw.ctx.database.sql, pointsAccounts.liability(world.op.id))).negated();
  expect(cents(liability)).toBe(cents(POINT_VALUE.times(available + pending - owed)));
  const me = (
    await gw
      .api()
      .get('/v1/me/points')
      .set(bearer(world.tokens[1] as string))
  ).body;
  // /me reads the balances kept on the household's row: they must be the journal's, to the point.
  expect(me).toMatchObject({ available, pending, owed });

  for (const publisher of world.publishers) {
    const rows = await db.settlement.findMany({ where: { publisherId: publisher.id } });
    for (const r of rows) {
      expect(cents(new Decimal(r.gross.toString()).plus(r.pointsRedeemedValue.toString()))).toBe(
        cents(
          new Decimal(r.commission.toString())
            .plus(r.net.toString())
            .plus(r.refunds.toString())
            .plus(r.chargebacks.toString())
            .plus(r.pointsIssuedValue.toString()),
        ),
      );
    }
    const total = (f: 'pointsIssuedValue' | 'pointsRedeemedValue' | 'gross') =>
      rows.reduce((s, r) => s.plus(r[f].toString()), new Decimal(0));
    const purchases = await db.purchase.findMany({
      where: { publisherId: publisher.id, status: { in: ['confirmed', 'refunded', 'disputed'] } },
    });
    let kept = 0;
    let spent = 0;
    let gross = new Decimal(0);
    for (const p of purchases) {
      const amount = new Decimal(p.amount.toString());
      const remaining = amount.minus(p.refundedAmount.toString()).minus(p.chargedBackAmount.toString());
      kept += pointsKept(p.pointsEarned, amount, remaining);
      spent += p.pointsSpent;
      gross = gross.plus(amount);
    }
    // Settled by the last run: the publisher paid for exactly the points its sales still earn, and was paid for those spent on it.
    expect(cents(total('pointsIssuedValue'))).toBe(cents(POINT_VALUE.times(kept)));
    expect(cents(total('pointsRedeemedValue'))).toBe(cents(POINT_VALUE.times(spent)));
    expect(cents(total('gross'))).toBe(cents(gross));
  }
}

describe('Kiosque Points under random histories', () => {
  it('When earning, spending, refunds, disputes, chargebacks, expiry and billing come in any order, then the points journal balances and every settlement identity holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 16 }), async (commands) => {
        const op = await createOperator(gw, { limits: { perPurchase: '50.00', weekly: '300.00', monthly: '300.00' } });
        await gw
          .api()
          .patch(`/v1/admin/operators/${op.id}`)
          .set(admin)
          .send({ points: { enabled: true, pointValue: '0.01' } });
        const holderRef = await provision(gw, op);
        const childRef = await provision(gw, op, `${holderRef}-child`, { holderRef });
        const holder = assertion(op, holderRef);
        await gw.api().put(`/v1/me/children/${childRef}/controls`).set(bearer(holder)).send({ pointsAllowed: true });
        const holderRow = await subscriberRow(gw, op.id, holderRef);
        const world: World = {
          op,
          publishers: [
            await createPublisher(gw, { pointsPerEuro: 10, commissionRates: { isp: '0.15' } }),
            await createPublisher(gw, { category: 'games', pointsPerEuro: '3.5', commissionRates: { isp: '0.1234' } }),
          ],
          tokens: [holder, assertion(op, childRef)],
          holderId: holderRow.id,
          purchases: [],
          frozen: new Map(),
          aheadDays: 0,
        };
        for (const c of commands) await perform(world, c);
        // A last run settles whatever is still unsettled, so every purchase's whole life is in the settlements.
        await billNow(world);
        await checkPoints(world);
      }),
      { numRuns: 8 },
    );
  }, 180_000);
});
