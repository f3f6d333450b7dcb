import { describe, expect, it } from 'vitest';
import { periodBoundary } from '../src/domain/plan-periods.js';
import { createLogger } from '../src/logger.js';
import { renewalQueue } from '../src/queue/renewals.js';
import { runRenewJob, startRenewalWorker } from '../workers/renewals.js';
import { startPrivateRedis } from './support/private-redis.js';
import { assertion, bearer, idemKey, provision, testConfig, unique } from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';
import { makeSubscriptionDue, publisherEvents, subscriptionCharges, subscriptionRow } from './support/rows.js';

const DAY_MS = 24 * 3600_000;

const gw = useGateway();
const publicUrl = gw.ctx.config.publicUrl;
const operator = useOperator(gw);
const publisher = usePublisher(gw);

interface Household {
  holder: string;
  childRef: string;
  child: string;
}

async function household(): Promise<Household> {
  const holderRef = await provision(gw, operator);
  const childRef = await provision(gw, operator, unique('child'), { holderRef });
  return { holder: assertion(operator, holderRef), childRef, child: assertion(operator, childRef) };
}

/** A subscription created and confirmed over HTTP; returns its row as PostgreSQL has it. */
async function activeSubscription(token: string, body: Record<string, unknown> = {}) {
  const created = await gw
    .api()
    .post('/v1/subscriptions')
    .set(bearer(publisher.apiKey))
    .set('Idempotency-Key', idemKey())
    .send({ plan: 'weekly', amount: '3.00', description: 'Weekly digest', channel: 'isp', ...body });
  const confirmed = await gw.api().post(`/v1/subscriptions/${created.body.id}/confirm`).set(bearer(token));
  if (confirmed.status !== 200)
    throw new Error(`confirmation failed: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return subscriptionRow(gw, created.body.id);
}

const eventsOf = async (id: string) =>
  (await publisherEvents(gw, publisher.id))
    .filter((e) => (e.payload as { data: { id: string } }).data.id === id)
    .map((e) => e.type);

describe('Renewing at the period end', () => {
  it('When a period ends, then the next one is charged as a purchase starting at the old end, and the period moves on from the anchor', async () => {
    const sub = await activeSubscription(assertion(operator, await provision(gw, operator)));
    const end = sub.currentPeriodEnd as Date;
    expect(await runRenewJob(gw.ctx.database, publicUrl, { subscriptionId: sub.id }, new Date(end.getTime() - 1))).toBe(
      'not_due',
    );
    expect(await subscriptionCharges(gw, sub.id)).toHaveLength(1);

    expect(await runRenewJob(gw.ctx.database, publicUrl, { subscriptionId: sub.id }, end)).toBe('renewed');
    const paid = await subscriptionCharges(gw, sub.id);
    expect(paid).toHaveLength(2);
    expect(paid[1]).toMatchObject({
      status: 'confirmed',
      kind: 'subscription',
      subscriptionPeriodStart: end,
      confirmedAt: end,
    });
    const after = await subscriptionRow(gw, sub.id);
    expect(after).toMatchObject({ status: 'active', currentPeriodStart: end, renewalAttempts: 0 });
    expect(after.currentPeriodEnd).toEqual(periodBoundary(sub.activatedAt as Date, 'weekly', 2));
    expect(after.nextAttemptAt).toEqual(after.currentPeriodEnd);
    expect(await eventsOf(sub.id)).toEqual(['subscription.activated', 'subscription.renewed']);
  });

  it('When the renewal job runs twice, or five times at once, then the period is charged once', async () => {
    const sub = await activeSubscription(assertion(operator, await provision(gw, operator)));
    const end = sub.currentPeriodEnd as Date;
    const job = { subscriptionId: sub.id };
    expect(await runRenewJob(gw.ctx.database, publicUrl, job, end)).toBe('renewed');
    expect(await runRenewJob(gw.ctx.database, publicUrl, job, end)).toBe('not_due');
    const next = (await subscriptionRow(gw, sub.id)).currentPeriodEnd as Date;
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => runRenewJob(gw.ctx.database, publicUrl, job, next)),
    );
    expect(outcomes.filter((o) => o === 'renewed')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'not_due')).toHaveLength(4);
    const paid = await subscriptionCharges(gw, sub.id);
    expect(paid.map((p) => p.subscriptionPeriodStart)).toEqual([sub.currentPeriodStart, end, next]);
  });

  it('When the renewal runs three weeks late, then only the period holding now is charged, once, on the anchor', async () => {
    const sub = await activeSubscription(assertion(operator, await provision(gw, operator)));
    const anchor = sub.activatedAt as Date;
    const late = new Date(periodBoundary(anchor, 'weekly', 4).getTime() + 3600_000);
    expect(await runRenewJob(gw.ctx.database, publicUrl, { subscriptionId: sub.id }, late)).toBe('renewed');
    expect(await runRenewJob(gw.ctx.database, publicUrl, { subscriptionId: sub.id }, late)).toBe('not_due');
    const paid = await subscriptionCharges(gw, sub.id);
    expect(paid.map((p) => p.subscriptionPeriodStart)).toEqual([anchor, periodBoundary(anchor, 'weekly', 4)]);
    expect((await subscriptionRow(gw, sub.id)).currentPeriodEnd).toEqual(periodBoundary(anchor, 'weekly', 5));
  });

  it('When anything tries to record a second charge for a paid period, then PostgreSQL refuses it', async () => {
    const sub = await activeSubscription(assertion(operator, await provision(gw, operator)));
    const [first] = await subscriptionCharges(gw, sub.id);
    if (!first) throw new Error('no first charge');
    const { id: _id, ...copy } = first;
    await expect(
      gw.ctx.database.prisma.purchase.create({ data: { ...copy, id: `pur_dup_${sub.id}` } }),
    ).rejects.toThrow(/Unique constraint/i);
  });

  it('When a subscription was canceled, then its period end passes without a charge', async () => {
    const token = assertion(operator, await provision(gw, operator));
    const sub = await activeSubscription(token);
    await gw.api().post(`/v1/subscriptions/${sub.id}/cancel`).set(bearer(token));
    expect(
      await runRenewJob(
        gw.ctx.database,
        publicUrl,
        { subscriptionId: sub.id },
        new Date((sub.currentPeriodEnd as Date).getTime() + DAY_MS),
      ),
    ).toBe('not_due');
    expect(await subscriptionCharges(gw, sub.id)).toHaveLength(1);
  });
});

describe('Declined renewals', () => {
  it('When the holder blocks a child, then its next renewal is declined, past_due, retried 1, 3 and 7 days later, then canceled', async () => {
    const h = await household();
    const sub = await activeSubscription(h.child);
    await gw.api().put(`/v1/me/children/${h.childRef}/controls`).set(bearer(h.holder)).send({ blocked: true });
    const end = (sub.currentPeriodEnd as Date).getTime();
    const job = { subscriptionId: sub.id };

    expect(await runRenewJob(gw.ctx.database, publicUrl, job, new Date(end))).toBe('past_due');
    expect(await subscriptionRow(gw, sub.id)).toMatchObject({
      status: 'past_due',
      declineCode: 'account_blocked',
      renewalAttempts: 1,
      nextAttemptAt: new Date(end + DAY_MS),
    });
    expect(await runRenewJob(gw.ctx.database, publicUrl, job, new Date(end + DAY_MS - 1))).toBe('not_due');

    expect(await runRenewJob(gw.ctx.database, publicUrl, job, new Date(end + DAY_MS))).toBe('past_due');
    expect(await subscriptionRow(gw, sub.id)).toMatchObject({
      renewalAttempts: 2,
      nextAttemptAt: new Date(end + 3 * DAY_MS),
    });
    expect(await runRenewJob(gw.ctx.database, publicUrl, job, new Date(end + 3 * DAY_MS))).toBe('past_due');
    expect(await subscriptionRow(gw, sub.id)).toMatchObject({
      renewalAttempts: 3,
      nextAttemptAt: new Date(end + 7 * DAY_MS),
    });
    expect(await runRenewJob(gw.ctx.database, publicUrl, job, new Date(end + 7 * DAY_MS))).toBe('canceled');
    expect(await subscriptionRow(gw, sub.id)).toMatchObject({
      status: 'canceled',
      nextAttemptAt: null,
      canceledAt: new Date(end + 7 * DAY_MS),
    });

    expect(await runRenewJob(gw.ctx.database, publicUrl, job, new Date(end + 30 * DAY_MS))).toBe('not_due');
    expect(await subscriptionCharges(gw, sub.id)).toHaveLength(1);
    expect(await eventsOf(sub.id)).toEqual([
      'subscription.activated',
      'subscription.past_due',
      'subscription.canceled',
    ]);
  });

  it('When the holder lowers the weekly ceiling, then the renewal is declined weekly_ceiling; lifted, the retry pays the original period', async () => {
    const h = await household();
    const sub = await activeSubscription(h.child, { amount: '5.00' });
    await gw.api().put(`/v1/me/children/${h.childRef}/controls`).set(bearer(h.holder)).send({ weekly: '4.00' });
    const end = sub.currentPeriodEnd as Date;
    const job = { subscriptionId: sub.id };

    expect(await runRenewJob(gw.ctx.database, publicUrl, job, end)).toBe('past_due');
    expect((await subscriptionRow(gw, sub.id)).declineCode).toBe('weekly_ceiling');

    await gw.api().put(`/v1/me/children/${h.childRef}/controls`).set(bearer(h.holder)).send({});
    const retryAt = new Date(end.getTime() + DAY_MS);
    expect(await runRenewJob(gw.ctx.database, publicUrl, job, retryAt)).toBe('renewed');
    const after = await subscriptionRow(gw, sub.id);
    expect(after).toMatchObject({ status: 'active', renewalAttempts: 0, currentPeriodStart: end });
    expect(after.declineCode).toBeNull();
    expect(after.currentPeriodEnd).toEqual(periodBoundary(sub.activatedAt as Date, 'weekly', 2));
    const paid = await subscriptionCharges(gw, sub.id);
    expect(paid[1]).toMatchObject({ subscriptionPeriodStart: end, confirmedAt: retryAt });
    expect(await eventsOf(sub.id)).toEqual(['subscription.activated', 'subscription.past_due', 'subscription.renewed']);
  });
});

describe('The renewal worker', () => {
  /** Moves a subscription's whole history back so its period ended a minute ago. */
  async function renewedEventually(id: string, periodStart: Date, deadlineMs = 20_000): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
      const paid = await gw.ctx.database.prisma.purchase.count({
        where: { subscriptionId: id, subscriptionPeriodStart: periodStart },
      });
      if (paid === 1) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  it('When a subscription is due, then the worker finds it in PostgreSQL and renews it through BullMQ', async () => {
    const sub = await activeSubscription(assertion(operator, await provision(gw, operator)));
    const end = await makeSubscriptionDue(gw, sub.id);
    const config = testConfig({ queuePrefix: unique('q') });
    const worker = await startRenewalWorker(
      { config, database: gw.ctx.database, logger: createLogger('silent') },
      { sweepEveryMs: 200 },
    );
    try {
      expect(await renewedEventually(sub.id, end)).toBe(true);
      expect((await subscriptionRow(gw, sub.id)).currentPeriodStart).toEqual(end);
    } finally {
      await worker.close();
      const queue = renewalQueue(config);
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('When Redis is flushed while the worker runs, then a renewal that falls due afterwards still happens', async () => {
    const redis = await startPrivateRedis();
    const config = testConfig({ queuePrefix: unique('q'), redisUrl: redis.url });
    const worker = await startRenewalWorker(
      { config, database: gw.ctx.database, logger: createLogger('silent') },
      { sweepEveryMs: 200, schedulerCheckEveryMs: 200 },
    );
    try {
      await redis.client.flushall();
      const sub = await activeSubscription(assertion(operator, await provision(gw, operator)));
      const end = await makeSubscriptionDue(gw, sub.id);
      expect(await renewedEventually(sub.id, end)).toBe(true);
      expect(await subscriptionCharges(gw, sub.id)).toHaveLength(2);
    } finally {
      await worker.close();
      await redis.stop();
    }
  });
});
