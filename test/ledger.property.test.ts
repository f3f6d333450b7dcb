import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runBilling } from '../src/domain/billing.js';
import { Decimal } from '../src/shared/money.js';
import { purchaseSettlement, settlementFromSums } from '../src/domain/settlement.js';
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
  type OperatorFixture,
  type PublisherFixture,
} from './support/harness.js';
import { openBillingRun, purchaseRow } from './support/rows.js';
import { useGateway } from './support/world.js';
import { expectGapFreeNumbers, expectVatNeverOverCredited } from './support/document-checks.js';
import { cents, portion, reportOutcome, type OutcomeKind } from './support/random-outcomes.js';
import {
  camt053,
  postPayoutRun,
  postStatement,
  registerBankAccount,
  withPayoutRunsToMyself,
  type SimpleEntry,
} from './support/cash.js';

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
  | { type: 'payout'; publisher: number; share: number }
  | { type: 'payoutRun'; minimumCents: number }
  | {
      type: 'statement';
      remitShare: number;
      paid: number;
      returned: number;
      duplicate: boolean;
    };

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
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('payoutRun' as const), minimumCents: fc.integer({ min: 1, max: 3000 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('statement' as const),
      remitShare: fc.integer({ min: 0, max: 100 }),
      paid: fc.nat(20),
      returned: fc.nat(20),
      duplicate: fc.boolean(),
    }),
  },
);

const gw = useGateway();

interface World {
  op: OperatorFixture;
  publishers: PublisherFixture[];
  tokens: string[];
  purchases: { id: string; publisher: PublisherFixture; token: string }[];
  frozen: Map<string, unknown>;
  /** The last statement imported, to import again. */
  lastStatement: string | null;
}

async function billNow(world: World): Promise<void> {
  const runId = await openBillingRun(gw, world.op.id);
  await runBilling(gw.ctx.database, runId);
  const rows = await gw.ctx.database.prisma.settlement.findMany({ where: { billingRunId: runId } });
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
      const row = await purchaseRow(gw, p.id);
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
    case 'payoutRun': {
      const made = await postPayoutRun(gw, {
        executionDate: '2026-12-15',
        minimum: (c.minimumCents / 100).toFixed(2),
      });
      expect(made.status).toBe(201);
      return;
    }
    case 'statement':
      return importStatement(world, c);
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

/** A statement of the day: a remittance for the operator's last run, one payout debited, one returned, or the last one again. */
async function importStatement(world: World, c: Extract<Command, { type: 'statement' }>): Promise<void> {
  if (c.duplicate && world.lastStatement) {
    expect((await postStatement(gw, world.lastStatement)).status).toBe(200);
    return;
  }
  const payouts = await gw.ctx.database.prisma.payout.findMany({
    where: { publisherId: { in: world.publishers.map((p) => p.id) } },
    orderBy: { id: 'asc' },
  });
  const entries: SimpleEntry[] = [];
  const run = await gw.ctx.database.prisma.billingRun.findFirst({
    where: { operatorId: world.op.id },
    orderBy: { id: 'desc' },
  });
  if (run && c.remitShare > 0) {
    const collected = await gw.ctx.database.prisma.invoice.aggregate({
      where: { billingRunId: run.id },
      _sum: { collected: true },
    });
    const amount = portion(new Decimal(collected._sum.collected?.toString() ?? '0'), c.remitShare);
    if (amount.gt(0)) entries.push({ amount: cents(amount), creditDebit: 'CRDT', ustrd: `REMISE ${run.id}` });
  }
  const paid = payouts[c.paid % Math.max(payouts.length, 1)];
  if (paid) entries.push({ amount: cents(paid.amount.toString()), creditDebit: 'DBIT', endToEndId: paid.id });
  const returned = payouts[c.returned % Math.max(payouts.length, 1)];
  if (returned)
    entries.push({
      amount: cents(returned.amount.toString()),
      creditDebit: 'CRDT',
      endToEndId: returned.id,
      returned: true,
    });
  const xml = camt053(`STMT-${idemKey()}`, gw.ctx.config.kiosqueAccount.iban, entries);
  expect((await postStatement(gw, xml)).status).toBe(201);
  world.lastStatement = xml;
}

/** No payout took more than the publisher had available just before it, read from the journal in its order. */
async function expectNoPayoutAboveAvailable(publisher: PublisherFixture): Promise<void> {
  const account = `publisher:${publisher.id}:payable`;
  const rows = await gw.ctx.database.prisma.$queryRaw<{ amount: string; before: string }[]>`
    SELECT p.amount::text AS amount,
      (SELECT COALESCE(-sum(q.amount), 0) FROM ledger_postings q WHERE q.account = ${account} AND q.entry_id < e.id)::text
        AS before
    FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
    WHERE e.kind = 'payout' AND p.account = ${account}`;
  for (const row of rows) expect(new Decimal(row.amount).lte(row.before)).toBe(true);
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

  const totals = (await gw.api().get('/v1/admin/ledger/balances').set(admin)).body;
  expect(totals.totalDebit).toBe(totals.totalCredit);

  for (const publisher of world.publishers) {
    await expectNoPayoutAboveAvailable(publisher);
    // What the bank said of each payout is in the journal once: paid out of transit, returned into available.
    const payouts = await db.payout.findMany({ where: { publisherId: publisher.id }, include: { transitions: true } });
    for (const p of payouts) {
      const keys = p.transitions.map((t) => `payout_${t.status}:${p.id}`);
      expect(await db.ledgerEntry.count({ where: { key: { in: keys } } })).toBe(keys.length);
    }
    const rows = await db.settlement.findMany({ where: { publisherId: publisher.id } });
    // domain/settlement.ts is the reference the SQL of the runs is held to: each row's net is what
    // settlementFromSums makes of its parts, and the rows add up to purchaseSettlement over every purchase's life.
    const dec = (v: { toString(): string }) => new Decimal(v.toString());
    for (const r of rows) {
      const reference = settlementFromSums({
        gross: dec(r.gross),
        commission: dec(r.commission),
        refunds: dec(r.refunds),
        chargebacks: dec(r.chargebacks),
      });
      expect(cents(reference.net)).toBe(cents(dec(r.net)));
    }
    const total = (f: 'gross' | 'commission' | 'refunds' | 'chargebacks' | 'net') =>
      rows.reduce((s, r) => s.plus(r[f].toString()), new Decimal(0));

    // Every purchase billed and every event settled by the last run: the runs add up to each purchase's life.
    const purchases = await db.purchase.findMany({
      where: { publisherId: publisher.id, status: { in: ['confirmed', 'refunded', 'disputed'] } },
    });
    const lives = purchases.map((p) => {
      expect(p.invoiceId).not.toBeNull();
      const life = purchaseSettlement({
        amount: dec(p.amount),
        refunded: dec(p.refundedAmount),
        chargedBack: dec(p.chargedBackAmount),
        rate: dec(p.commissionRate ?? '0'),
      });
      expect(cents(dec(p.commissionAmount ?? '0'))).toBe(cents(life.commission));
      return life;
    });
    const lifeTotal = (f: 'gross' | 'commission' | 'refunds' | 'chargebacks' | 'net') =>
      lives.reduce((s, l) => s.plus(l[f]), new Decimal(0));
    const fields = ['gross', 'refunds', 'chargebacks', 'commission', 'net'] as const;
    expect(fields.map((f) => cents(total(f)))).toEqual(fields.map((f) => cents(lifeTotal(f))));

    // Settled net less payouts is the publisher's ledger balance, and what /v1/balance says.
    const balance = (await gw.api().get('/v1/balance').set(bearer(publisher.apiKey))).body;
    const paidOut = payouts
      .filter((p) => !p.transitions.some((t) => t.status === 'returned'))
      .reduce((s, p) => s.plus(p.amount.toString()), new Decimal(0));
    expect(balance).toEqual({
      settled: cents(total('net')),
      paidOut: cents(paidOut),
      pending: cents(total('net').minus(paidOut).minus(balance.available)),
      available: balance.available,
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
  it('When purchases, refunds, disputes, runs, outcomes, payouts, payout runs and bank statements come in any order, then every identity holds to the cent', async () => {
    await withPayoutRunsToMyself(() =>
      fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 18 }), async (commands) => {
          const op = await createOperator(gw, {
            limits: { perPurchase: '50.00', weekly: '300.00', monthly: '300.00' },
          });
          const world: World = {
            op,
            publishers: [
              await createPublisher(gw, { commissionRates: { isp: '0.15' } }),
              await createPublisher(gw, { category: 'games', commissionRates: { isp: '0.1234' } }),
            ],
            tokens: [assertion(op, await provision(gw, op)), assertion(op, await provision(gw, op))],
            purchases: [],
            frozen: new Map(),
            lastStatement: null,
          };
          for (const [i, publisher] of world.publishers.entries())
            await registerBankAccount(
              gw,
              publisher,
              i === 0 ? 'DE89370400440532013000' : 'NL91ABNA0417164300',
              'Éditeur',
            );
          for (const c of commands) await perform(world, c);
          // A last run settles whatever is still pending, so every purchase's whole life is in the settlements.
          await billNow(world);
          await checkLedger(world);
          await expectGapFreeNumbers(gw, world.op.id);
          await expectVatNeverOverCredited(gw, world.op.id);
        }),
        { numRuns: 10 },
      ),
    );
  }, 240_000);
});
