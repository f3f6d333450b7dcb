import { describe, expect, it } from 'vitest';
import { confirmPurchase } from '../src/domain/purchases.js';
import { monthStart, weekStart } from '../src/domain/periods.js';
import { inTransaction } from '../src/store/sql.js';
import { assertion, bearer, buy, createPurchase, idemKey, provision } from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';
import { backdatePurchase, recordChargeback, subscriberRow } from './support/rows.js';

const gw = useGateway();
const operator = useOperator(gw, { limits: { perPurchase: '40.00', weekly: '200.00', monthly: '300.00' } });
const publisher = usePublisher(gw);

interface Total {
  kind: string;
  start: string;
  amount: string;
}

/** The running totals as the store keeps them. */
async function totals(subscriberId: string): Promise<Total[]> {
  const rows = await gw.ctx.database.prisma.subscriberSpending.findMany({
    where: { subscriberId },
    orderBy: [{ periodKind: 'asc' }, { periodStart: 'asc' }],
  });
  return rows.map((r) => ({ kind: r.periodKind, start: r.periodStart.toISOString(), amount: r.amount.toFixed(2) }));
}

/** The same totals summed over the purchases themselves, by the rule of spentBy, periods cut in TypeScript. */
async function summedOverPurchases(subscriberId: string): Promise<Total[]> {
  const purchases = await gw.ctx.database.prisma.purchase.findMany({
    where: { subscriberId, confirmedAt: { not: null } },
  });
  const sums = new Map<string, number>();
  for (const p of purchases) {
    if (!['confirmed', 'refunded', 'disputed'].includes(p.status) || !p.confirmedAt) continue;
    const cents = Math.round(Number(p.amount.minus(p.refundedAmount).times(100)));
    for (const [kind, start] of [
      ['month', monthStart(p.confirmedAt)],
      ['week', weekStart(p.confirmedAt)],
    ] as const) {
      const key = `${kind}|${start.toISOString()}`;
      sums.set(key, (sums.get(key) ?? 0) + cents);
    }
  }
  return [...sums.entries()]
    .map(([key, cents]) => {
      const [kind, start] = key.split('|') as [string, string];
      return { kind, start, amount: (cents / 100).toFixed(2) };
    })
    .sort((a, b) => (a.kind + a.start < b.kind + b.start ? -1 : 1));
}

function subscriberOf(externalRef: string) {
  return subscriberRow(gw, operator.id, externalRef);
}

function refund(purchaseId: string, amount?: string) {
  return gw
    .api()
    .post(`/v1/purchases/${purchaseId}/refunds`)
    .set(bearer(publisher.apiKey))
    .set('Idempotency-Key', idemKey())
    .send(amount ? { amount } : {});
}

describe('Running spending totals', () => {
  const name =
    'When purchases are confirmed, partly and fully refunded, lost in a dispute and charged back, ' +
    'then the totals equal the sum over purchases';
  it(name, async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const subscriber = await subscriberOf(ref);

    const bought = [];
    for (const amount of ['12.34', '5.00', '7.77', '3.33', '20.00']) {
      const { id, res } = await buy(gw, publisher, token, { amount });
      expect(res.status).toBe(200);
      bought.push(id);
    }
    const [partly, fully, disputed, chargedBack] = bought as [string, string, string, string, string];
    // One confirmed forty days ago lands in an earlier week and month of its own.
    const old = await createPurchase(gw, publisher, { amount: '9.99' });
    const fortyDaysAgo = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    await backdatePurchase(gw, old.id, fortyDaysAgo);
    const evidence = { ip: null, userAgent: null, pageVersion: 'api-v1', assertionId: 'totals' };
    const backdated = await inTransaction(gw.ctx.database.pool, (sql) =>
      confirmPurchase(sql, old.id, subscriber, evidence, 'http://kiosque.test', fortyDaysAgo),
    );
    expect(backdated.outcome).toBe('confirmed');

    expect((await refund(partly, '2.34')).status).toBe(201);
    expect((await refund(fully)).status).toBe(201);
    const opened = await gw
      .api()
      .post('/v1/disputes')
      .set(bearer(token))
      .set('Idempotency-Key', idemKey())
      .send({ purchaseId: disputed, reason: 'Never received' });
    expect(opened.status).toBe(201);
    const lost = await gw
      .api()
      .post(`/v1/disputes/${opened.body.id}/response`)
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ accept: true });
    expect(lost.body).toMatchObject({ status: 'lost', purchase: { status: 'refunded' } });
    // Chargebacks do not count against ceilings: only amount − refunded does.
    await recordChargeback(gw, chargedBack, '3.33');

    const expected = await summedOverPurchases(subscriber.id);
    // 12.34 − 2.34 + 0 + 0 + 3.33 + 20.00 this week and month; 9.99 forty days ago.
    expect(expected.filter((t) => t.start === weekStart(new Date()).toISOString())).toEqual([
      { kind: 'week', start: weekStart(new Date()).toISOString(), amount: '33.33' },
    ]);
    expect(expected.some((t) => t.amount === '9.99')).toBe(true);
    expect(await totals(subscriber.id)).toEqual(expected);

    const budget = await gw.api().get('/v1/me/budget').set(bearer(token));
    expect(budget.body.weekly.spent).toBe('33.33');
  });

  it('When the totals table is rebuilt by the migration backfill, then it equals what the trigger kept', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    for (const amount of ['1.10', '2.20']) expect((await buy(gw, publisher, token, { amount })).res.status).toBe(200);
    const subscriber = await subscriberOf(ref);
    const kept = await totals(subscriber.id);
    const rebuilt = await gw.ctx.database.prisma.$queryRaw<Total[]>`
      SELECT k.period AS kind, to_char(date_trunc(k.period, confirmed_at, 'Europe/Paris') AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS start,
             SUM(purchase_spending(status, subscriber_id, confirmed_at, amount, refunded_amount))::text AS amount
      FROM purchases CROSS JOIN (VALUES ('week'), ('month')) AS k(period)
      WHERE subscriber_id = ${subscriber.id} AND confirmed_at IS NOT NULL
        AND status IN ('confirmed', 'refunded', 'disputed')
      GROUP BY 1, 2 ORDER BY 1, 2`;
    expect(rebuilt).toEqual(kept);
  });
});
