import { beforeAll, describe, expect, it } from 'vitest';
import { createBillingRun, runBilling } from '../src/domain/billing.js';
import { sweepPoints } from '../src/domain/household-points.js';
import { PENDING_MS } from '../src/domain/points.js';
import { unbalancedEntries } from './support/journal.js';
import { createLogger } from '../src/logger.js';
import { startHousekeepingWorker } from '../workers/housekeeping.js';
import {
  admin,
  assertion,
  bearer,
  createOperator,
  createPublisher,
  createPurchase,
  idemKey,
  provision,
  unique,
  type PublisherFixture,
} from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';
import { storedPurchaseStatus } from './support/rows.js';

const gw = useGateway();
const operator = useOperator(gw);

const DAY_MS = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  const enabled = await gw
    .api()
    .patch(`/v1/admin/operators/${operator.id}`)
    .set(admin)
    .send({ points: { enabled: true } });
  expect(enabled.status).toBe(200);
});
/** Awards 10 points per euro. */
const awarding = usePublisher(gw, { pointsPerEuro: 10 });
/** Awards none: where points are spent. */
const plain = usePublisher(gw);

async function household() {
  const holderRef = await provision(gw, operator);
  const childRef = await provision(gw, operator, unique('child'), { holderRef });
  return { holderRef, childRef, holder: assertion(operator, holderRef), child: assertion(operator, childRef) };
}

const confirm = (id: string, token: string, body?: object) => {
  const req = gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(token));
  return body ? req.send(body) : req;
};

async function buyFrom(publisher: PublisherFixture, token: string, amount: string, body?: object) {
  const { id } = await createPurchase(gw, publisher, { amount });
  return { id, res: await confirm(id, token, body) };
}

const points = async (token: string) => (await gw.api().get('/v1/me/points').set(bearer(token))).body;

/** Makes every lot confirmed until now mature, as the housekeeping sweep would 14 days later. */
const matureAll = () =>
  sweepPoints(gw.ctx.database, new Date(Date.now() + PENDING_MS + DAY_MS), 1000, {
    operatorIds: [operator.id],
  });

describe('Kiosque Points: programme settings', () => {
  it('When an operator turns points on with a value, then its resource shows it; a bad value is 400', async () => {
    const op = await createOperator(gw);
    const created = await gw.api().patch(`/v1/admin/operators/${op.id}`).set(admin).send({});
    expect(created.body.points).toEqual({ enabled: false, pointValue: '0.01' });
    const on = await gw
      .api()
      .patch(`/v1/admin/operators/${op.id}`)
      .set(admin)
      .send({ points: { enabled: true, pointValue: '0.02' } });
    expect(on.status).toBe(200);
    expect(on.body.points).toEqual({ enabled: true, pointValue: '0.02' });
    for (const pointValue of ['0.00', '0.005', 0.01, '2.00']) {
      const bad = await gw
        .api()
        .patch(`/v1/admin/operators/${op.id}`)
        .set(admin)
        .send({ points: { enabled: true, pointValue } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_request');
    }
  });

  it('When a publisher sets pointsPerEuro, then its profile shows it; default 0; a negative rate is 400', async () => {
    const pub = await createPublisher(gw);
    const profile = await gw.api().get('/v1/publisher').set(bearer(pub.apiKey));
    expect(profile.body.pointsPerEuro).toBe(0);
    const patched = await gw.api().patch('/v1/publisher').set(bearer(pub.apiKey)).send({ pointsPerEuro: '2.5' });
    expect(patched.status).toBe(200);
    expect(patched.body.pointsPerEuro).toBe(2.5);
    const bad = await gw.api().patch('/v1/publisher').set(bearer(pub.apiKey)).send({ pointsPerEuro: -1 });
    expect(bad.status).toBe(400);
    const badCreate = await gw
      .api()
      .post('/v1/admin/publishers')
      .set(admin)
      .send({ name: 'x', category: 'press', pointsPerEuro: 'many' });
    expect(badCreate.status).toBe(400);
  });
});

describe('Kiosque Points: earning, maturing, spending', () => {
  it('When a household buys, then it earns floor(amount × pointsPerEuro) pending, available after 14 days', async () => {
    const h = await household();
    const { res } = await buyFrom(awarding, h.child, '4.99');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ amount: '4.99', pointsEarned: 49, pointsSpent: 0 });
    expect(await points(h.holder)).toMatchObject({ available: 0, pending: 49, owed: 0 });
    // The child earns into its holder's account and sees the household's points.
    expect(await points(h.child)).toMatchObject({ available: 0, pending: 49 });
    await matureAll();
    const after = await points(h.holder);
    expect(after).toMatchObject({ available: 49, pending: 0, availableValue: '0.49' });
    expect(after.history.map((e: { type: string }) => e.type)).toEqual(['available', 'earned']);
    expect(after.history[1]).toMatchObject({ type: 'earned', points: 49, pending: 49 });
    // Run twice, the sweep finds nothing more to do.
    expect(await matureAll()).toMatchObject({ matured: 0 });
    expect(await points(h.holder)).toMatchObject({ available: 49, pending: 0 });
  });

  it('When a subscription is confirmed, then its first period earns points like any purchase', async () => {
    const h = await household();
    const created = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(awarding.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ plan: 'monthly', amount: '4.99', description: 'Le mensuel', channel: 'isp' });
    expect(created.status).toBe(201);
    const confirmed = await gw.api().post(`/v1/subscriptions/${created.body.id}/confirm`).set(bearer(h.child));
    expect(confirmed.status).toBe(200);
    expect(await points(h.holder)).toMatchObject({ pending: 49, available: 0 });
  });

  it('When points pay part of a purchase, then amount is the euro part, it earns on that part only', async () => {
    const h = await household();
    await buyFrom(awarding, h.holder, '30.00');
    await matureAll();
    const { res } = await buyFrom(awarding, h.holder, '2.00', { points: 150 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      amount: '0.50',
      price: '2.00',
      pointsSpent: 150,
      pointsValue: '1.50',
      pointsEarned: 5,
    });
    expect(await points(h.holder)).toMatchObject({ available: 150, pending: 5 });
    // The euro part is what counts against the ceilings.
    const budget = await gw.api().get('/v1/me/budget').set(bearer(h.holder));
    expect(budget.body.weekly.spent).toBe('30.50');
  });

  it('When points pay the whole price, then the purchase bills 0.00', async () => {
    const h = await household();
    await buyFrom(awarding, h.holder, '10.00');
    await matureAll();
    const { res } = await buyFrom(plain, h.holder, '1.00', { points: 100 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ amount: '0.00', price: '1.00', pointsSpent: 100 });
    expect(await points(h.holder)).toMatchObject({ available: 0 });
  });

  it('When the points are worth more than the price, then 400 and nothing changes', async () => {
    const h = await household();
    await buyFrom(awarding, h.holder, '10.00');
    await matureAll();
    const { id, res } = await buyFrom(plain, h.holder, '0.50', { points: 51 });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', details: { maxPoints: 50 } });
    expect(await storedPurchaseStatus(gw, id)).toBe('pending');
    expect(await points(h.holder)).toMatchObject({ available: 100 });
  });

  it('When the household has fewer points than asked, then 409 and the purchase stays pending', async () => {
    const h = await household();
    await buyFrom(awarding, h.holder, '1.00');
    await matureAll();
    const { id, res } = await buyFrom(plain, h.holder, '1.00', { points: 11 });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'invalid_state', details: { requested: 11, available: 10 } });
    expect(await storedPurchaseStatus(gw, id)).toBe('pending');
    // The same purchase can then be confirmed with the points the household has.
    const retried = await confirm(id, h.holder, { points: 10 });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ amount: '0.90', pointsSpent: 10 });
  });

  it('When a child spends points, then it needs pointsAllowed from its holder (403 before)', async () => {
    const h = await household();
    await buyFrom(awarding, h.holder, '2.00');
    await matureAll();
    const refused = await buyFrom(plain, h.child, '1.00', { points: 5 });
    expect(refused.res.status).toBe(403);
    expect(refused.res.body.error.code).toBe('forbidden');
    const controls = await gw
      .api()
      .put(`/v1/me/children/${h.childRef}/controls`)
      .set(bearer(h.holder))
      .send({ pointsAllowed: true });
    expect(controls.status).toBe(200);
    expect(controls.body.pointsAllowed).toBe(true);
    const allowed = await confirm(refused.id, h.child, { points: 5 });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ amount: '0.95', pointsSpent: 5 });
    expect(await points(h.holder)).toMatchObject({ available: 15 });
  });

  it('When the operator runs no programme, then spending points is 409 and nothing is earned', async () => {
    const op = await createOperator(gw);
    const ref = await provision(gw, op);
    const token = assertion(op, ref);
    const { id } = await createPurchase(gw, awarding, { amount: '3.00' });
    const spend = await confirm(id, token, { points: 1 });
    expect(spend.status).toBe(409);
    const plainly = await confirm(id, token);
    expect(plainly.status).toBe(200);
    expect(plainly.body.pointsEarned).toBeUndefined();
    expect(await points(token)).toMatchObject({ enabled: false, available: 0, pending: 0 });
  });

  it('When points is not a whole number, then 400', async () => {
    const h = await household();
    const { id } = await createPurchase(gw, plain, { amount: '1.00' });
    for (const bad of [1.5, -1, '10']) {
      const res = await confirm(id, h.holder, { points: bad });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
  });
});

describe('Kiosque Points: clawback', () => {
  it('When a pending purchase is refunded in part, then its proportional share leaves pending', async () => {
    const h = await household();
    const { id } = await buyFrom(awarding, h.holder, '10.00');
    const refund = await gw
      .api()
      .post(`/v1/purchases/${id}/refunds`)
      .set(bearer(awarding.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ amount: '2.55' });
    expect(refund.status).toBe(201);
    // 100 earned on 10.00; 7.45 stays, which keeps floor(100 × 7.45 / 10) = 74.
    expect(await points(h.holder)).toMatchObject({ pending: 74, available: 0, owed: 0 });
    await gw
      .api()
      .post(`/v1/purchases/${id}/refunds`)
      .set(bearer(awarding.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expect(await points(h.holder)).toMatchObject({ pending: 0, available: 0, owed: 0 });
  });

  it('When spent points are clawed back, then available never goes below zero and the rest is owed, repaid by the next points', async () => {
    const h = await household();
    const { id } = await buyFrom(awarding, h.holder, '5.00');
    await matureAll();
    await buyFrom(plain, h.holder, '0.40', { points: 40 });
    expect(await points(h.holder)).toMatchObject({ available: 10 });
    const refund = await gw
      .api()
      .post(`/v1/purchases/${id}/refunds`)
      .set(bearer(awarding.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expect(refund.status).toBe(201);
    expect(await points(h.holder)).toMatchObject({ available: 0, pending: 0, owed: 40 });
    await buyFrom(awarding, h.holder, '5.00');
    await matureAll();
    // 50 matured: 40 repay the debt, 10 become available.
    expect(await points(h.holder)).toMatchObject({ available: 10, pending: 0, owed: 0 });
    expect(await unbalancedEntries(gw.ctx.database.prisma)).toEqual([]);
  });

  it('When a dispute is lost, then the points its purchase earned are taken back', async () => {
    const h = await household();
    const { id } = await buyFrom(awarding, h.holder, '3.00');
    const opened = await gw
      .api()
      .post('/v1/disputes')
      .set(bearer(h.holder))
      .send({ purchaseId: id, reason: 'never got it' });
    expect(opened.status).toBe(201);
    const lost = await gw
      .api()
      .post(`/v1/disputes/${opened.body.id}/response`)
      .set(bearer(awarding.apiKey))
      .send({ accept: true });
    expect(lost.status).toBe(200);
    expect(await points(h.holder)).toMatchObject({ pending: 0, available: 0 });
    const types = (await points(h.holder)).history.map((e: { type: string }) => e.type);
    expect(types).toEqual(['clawed_back', 'earned']);
  });
});

describe('Kiosque Points: clawbacks racing spends', () => {
  it('When refunds and point-spending confirmations of one household race, then none deadlocks, available never goes below zero and what was spent and taken back is owed', async () => {
    const h = await household();
    await gw.api().put(`/v1/me/children/${h.childRef}/controls`).set(bearer(h.holder)).send({ pointsAllowed: true });
    const earning = [];
    for (let i = 0; i < 10; i++) earning.push((await buyFrom(awarding, i % 2 ? h.child : h.holder, '1.00')).id);
    await matureAll();
    expect(await points(h.holder)).toMatchObject({ available: 100 });
    const spending = await Promise.all(Array.from({ length: 10 }, () => createPurchase(gw, plain, { amount: '1.00' })));
    const results = await Promise.all([
      ...earning.map((id) =>
        gw
          .api()
          .post(`/v1/purchases/${id}/refunds`)
          .set(bearer(awarding.apiKey))
          .set('Idempotency-Key', idemKey())
          .send({}),
      ),
      ...spending.map(({ id }, i) => confirm(id, i % 2 ? h.child : h.holder, { points: 10 })),
    ]);
    expect(results.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(201));
    const confirmations = results.slice(10).map((r) => r.status);
    expect(confirmations.every((s) => s === 200 || s === 409)).toBe(true);
    const spent = confirmations.filter((s) => s === 200).length * 10;
    // All 100 earned points are taken back: what had been spent meanwhile is owed.
    expect(await points(h.holder)).toMatchObject({ available: 0, pending: 0, owed: spent });
    expect(await unbalancedEntries(gw.ctx.database.prisma)).toEqual([]);
  });
});

describe('Kiosque Points: settlement', () => {
  it('When a run settles, then rows carry pointsIssuedValue and pointsRedeemedValue and the identity holds', async () => {
    const op = await createOperator(gw);
    await gw
      .api()
      .patch(`/v1/admin/operators/${op.id}`)
      .set(admin)
      .send({ points: { enabled: true, pointValue: '0.01' } });
    const ref = await provision(gw, op);
    const token = assertion(op, ref);
    await buyFrom(awarding, token, '20.00');
    await sweepPoints(gw.ctx.database, new Date(Date.now() + PENDING_MS + DAY_MS), 1000, {
      operatorIds: [op.id],
    });
    await buyFrom(plain, token, '3.00', { points: 120 });
    const run = await gw.ctx.database.transaction((sql) => createBillingRun(sql, op.id, new Date()));
    await runBilling(gw.ctx.database, run.id);
    const settlement = await gw.api().get(`/v1/operator/billing-runs/${run.id}/settlement`).set(bearer(op.apiKey));
    expect(settlement.status).toBe(200);
    const rows = new Map(settlement.body.data.map((r: { publisherId: string }) => [r.publisherId, r]));
    expect(rows.get(awarding.id)).toMatchObject({
      gross: '20.00',
      commission: '3.00',
      pointsIssuedValue: '2.00',
      pointsRedeemedValue: '0.00',
      net: '15.00',
    });
    expect(rows.get(plain.id)).toMatchObject({
      gross: '1.80',
      commission: '0.27',
      pointsIssuedValue: '0.00',
      pointsRedeemedValue: '1.20',
      net: '2.73',
    });
    const own = await gw.api().get('/v1/settlements').set(bearer(plain.apiKey));
    expect(own.body.data.find((r: { billingRunId: string }) => r.billingRunId === run.id)).toMatchObject({
      pointsRedeemedValue: '1.20',
      net: '2.73',
    });
    const invoices = await gw.api().get(`/v1/operator/invoices?billingRun=${run.id}`).set(bearer(op.apiKey));
    expect(invoices.body.data[0].total).toBe('21.80');
  });
});

describe('The housekeeping worker sweeps points', () => {
  it('When it ticks 15 days and then 13 months ahead, then the points become available, then expire, each once', async () => {
    const op = await createOperator(gw);
    await gw
      .api()
      .patch(`/v1/admin/operators/${op.id}`)
      .set(admin)
      .send({ points: { enabled: true } });
    const token = assertion(op, await provision(gw, op));
    await buyFrom(awarding, token, '3.00');
    let clock = new Date(Date.now() + PENDING_MS + DAY_MS);
    const worker = await startHousekeepingWorker(
      {
        config: { ...gw.ctx.config, queuePrefix: unique('kq-points-housekeeping') },
        database: gw.ctx.database,
        logger: createLogger('silent'),
      },
      {
        now: () => clock,
        pointsEveryMs: 100,
        // Its other sweeps touch nothing of anyone's.
        scope: { operatorIds: [op.id], publisherIds: [], idempotencyScopes: [] },
      },
    );
    try {
      const until = async (want: Record<string, number>) => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const now = await points(token);
          if (Object.entries(want).every(([k, v]) => now[k] === v)) return now;
          if (Date.now() > deadline) throw new Error(`points still ${JSON.stringify(now)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await until({ available: 30, pending: 0 });
      clock = new Date(clock.getTime() + 400 * DAY_MS);
      const expired = await until({ available: 0 });
      // Many ticks ran over the same journal: one maturity and one expiry entry, nothing more.
      await new Promise((r) => setTimeout(r, 500));
      const types = (await points(token)).history.map((e: { type: string }) => e.type);
      expect(types).toEqual(['expired', 'available', 'earned']);
      expect(expired.history[0]).toMatchObject({ type: 'expired', points: -30 });
    } finally {
      await worker.close();
    }
  });
});

describe('GET /v1/me/points', () => {
  it('When the history is longer than a page, then nextCursor pages through it; a bad cursor is 400', async () => {
    const h = await household();
    for (let i = 0; i < 3; i++) await buyFrom(awarding, h.holder, '1.00');
    const first = await gw.api().get('/v1/me/points?limit=2').set(bearer(h.holder));
    expect(first.body.history).toHaveLength(2);
    expect(first.body.nextCursor).not.toBeNull();
    const second = await gw.api().get(`/v1/me/points?limit=2&cursor=${first.body.nextCursor}`).set(bearer(h.holder));
    expect(second.body.history).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const bad = await gw.api().get('/v1/me/points?cursor=abc').set(bearer(h.holder));
    expect(bad.status).toBe(400);
    const anonymous = await gw.api().get('/v1/me/points');
    expect(anonymous.status).toBe(401);
  });
});
