import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepPoints } from '../src/domain/household-points.js';
import { PENDING_MS } from '../src/domain/points.js';
import { pointsAccounts } from '../src/shared/accounts.js';
import { accountBalance, unbalancedEntries } from './support/journal.js';
import { spawnGateway, type GatewayProcess } from './support/gateway-process.js';
import {
  admin,
  assertion,
  bearer,
  createPurchase,
  provision,
  insertPendingPurchases,
  unique,
} from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';
import { subscriberRow } from './support/rows.js';

/**
 * The points invariant where it is hardest: one household's available points
 * spent by many confirmations at once, from the holder and a child, split
 * across two gateway processes.
 */
const gw = useGateway();
let gateways: GatewayProcess[];
beforeAll(async () => {
  const unshed = { MAX_IN_FLIGHT: '5000', MAX_POOL_WAITING: '5000', REQUEST_DEADLINE_MS: '120000' };
  gateways = await Promise.all([1, 2].map(() => spawnGateway({ RATE_LIMIT_PER_MINUTE: '1000000', ...unshed })));
});
afterAll(() => Promise.all(gateways.map((g) => g.stop())));
const operator = useOperator(gw, { limits: { perPurchase: '50.00', weekly: '60.00', monthly: '300.00' } });
beforeAll(async () => {
  await gw
    .api()
    .patch(`/v1/admin/operators/${operator.id}`)
    .set(admin)
    .send({ points: { enabled: true } });
});
const awarding = usePublisher(gw, { pointsPerEuro: 100 });
const plain = usePublisher(gw);

const createMany = (count: number, amount: string) => insertPendingPurchases(gw, plain.id, count, amount);

const balance = (account: string) => accountBalance(gw.ctx.database.sql, account, 'PTS');

describe('Kiosque Points across two gateway processes', () => {
  it('When 50 confirmations spend 30 points each of a household holding 1,000, then 33 pass, 17 are refused and no point is lost', async () => {
    const holderRef = await provision(gw, operator);
    const childRef = await provision(gw, operator, unique('child'), { holderRef });
    const holder = assertion(operator, holderRef);
    const child = assertion(operator, childRef);
    await gw.api().put(`/v1/me/children/${childRef}/controls`).set(bearer(holder)).send({ pointsAllowed: true });
    const { id: earning } = await createPurchase(gw, awarding, { amount: '10.00' });
    expect((await gw.api().post(`/v1/purchases/${earning}/confirm`).set(bearer(holder))).body.pointsEarned).toBe(1000);
    await sweepPoints(gw.ctx.database, new Date(Date.now() + PENDING_MS + 60_000), 1000, {
      operatorIds: [operator.id],
    });

    const ids = await createMany(50, '1.00');
    const responses = await Promise.all(
      ids.map(async (id, i) => {
        const gateway = gateways[i % gateways.length] as GatewayProcess;
        const res = await fetch(`${gateway.url}/v1/purchases/${id}/confirm`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${i % 3 === 0 ? child : holder}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ points: 30 }),
        });
        return { status: res.status, body: (await res.json()) as { pointsSpent?: number; error?: { code: string } } };
      }),
    );
    const confirmed = responses.filter((r) => r.status === 200);
    expect(confirmed).toHaveLength(33);
    expect(confirmed.every((r) => r.body.pointsSpent === 30)).toBe(true);
    const refused = responses.filter((r) => r.status === 409);
    expect(refused).toHaveLength(17);
    expect(refused.every((r) => r.body.error?.code === 'invalid_state')).toBe(true);

    const holderRow = await subscriberRow(gw, operator.id, holderRef);
    // Liabilities read as credits: a household's balance is minus its postings' sum.
    const available = (await balance(pointsAccounts.available(holderRow.id))).negated();
    const pending = (await balance(pointsAccounts.pending(holderRow.id))).negated();
    expect(available.toNumber()).toBe(10);
    expect(pending.isZero()).toBe(true);
    // The balances kept on the household's row, which every confirmation read under its lock, are the journal's.
    const kept = await gw.ctx.database.prisma.pointsHousehold.findUniqueOrThrow({ where: { holderId: holderRow.id } });
    expect({ available: kept.available, pending: kept.pending }).toEqual({ available: 10, pending: 0 });
    // Every point issued is held or was redeemed: none lost, none made.
    const issued = await balance(pointsAccounts.issued(operator.id));
    const redeemed = (await balance(pointsAccounts.redeemed(operator.id))).negated();
    expect(issued.toNumber()).toBe(1000);
    expect(redeemed.toNumber()).toBe(990);
    expect(available.plus(pending).plus(redeemed).toNumber()).toBe(issued.toNumber());
    const spent = await gw.ctx.database.prisma.purchase.aggregate({
      where: { id: { in: ids }, status: 'confirmed' },
      _sum: { pointsSpent: true },
    });
    expect(spent._sum.pointsSpent).toBe(990);
    const stillPending = await gw.ctx.database.prisma.purchase.count({ where: { id: { in: ids }, status: 'pending' } });
    expect(stillPending).toBe(17);
    expect(await unbalancedEntries(gw.ctx.database.prisma)).toEqual([]);
  });
});
