import { describe, expect, it } from 'vitest';
import { confirmPurchase, type Confirmation } from '../src/domain/purchases.js';
import type { SubscriberRef } from '../src/domain/subscribers.js';
import { confirmSubscription, type SubscriptionConfirmation } from '../src/domain/subscriptions.js';
import { inTransaction, type Sql } from '../src/store/sql.js';
import { createPurchase, createSubscriptionOffer, provisionedSubscriber } from './support/harness.js';
import { subscriptionCharges } from './support/rows.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw, { limits: { perPurchase: '40.00', weekly: '30.50', monthly: '100.00' } });
const publisher = usePublisher(gw);

const evidence = { ip: '203.0.113.7', userAgent: 'lock-order test', pageVersion: 'api-v1', assertionId: 'lock-order' };

/**
 * True once a backend of this database waits for a row lock in a confirmation's locking statement: an
 * offer's, or a purchase's claim (pg_stat_activity keeps the first kilobyte of a statement: its start is
 * what can be matched).
 */
async function confirmationWaitsForLock(): Promise<boolean> {
  const rows = await gw.ctx.database.prisma.$queryRaw<{ waiting: number }[]>`
    SELECT count(*)::int AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
      AND (query LIKE 'SELECT s.id, s.operator_id AS "operatorId"%' OR query LIKE 'WITH locked AS%')`;
  return (rows[0]?.waiting ?? 0) > 0;
}

/**
 * Session one confirms `first` (30.00) and keeps its transaction, and so the subscriber's row lock, open
 * until session two's confirmation, started meanwhile, is seen waiting for that lock.
 */
async function confirmWhileLocked<T>(
  subscriber: SubscriberRef & { id: string },
  first: string,
  second: (sql: Sql) => Promise<T>,
): Promise<{ holder: Confirmation; waiter: T }> {
  const gate = signal();
  const locked = signal();
  const holder = inTransaction(gw.ctx.database.pool, async (sql) => {
    const result = await confirmPurchase(sql, first, subscriber, evidence, 'http://kiosque.test');
    locked.raise();
    await gate.raised;
    return result;
  });
  await locked.raised;
  const waiter = inTransaction(gw.ctx.database.pool, second);
  await until(confirmationWaitsForLock);
  gate.raise();
  return { holder: await holder, waiter: await waiter };
}

/** A promise another part of the test resolves: a session saying it holds a lock, or being let go. */
function signal(): { raised: Promise<void>; raise: () => void } {
  let raise = () => {};
  const raised = new Promise<void>((resolve) => {
    raise = resolve;
  });
  return { raised, raise };
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 1000; tries++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const activity = await gw.ctx.database.prisma.$queryRaw<unknown[]>`
    SELECT wait_event_type, wait_event, state, left(query, 80) AS query
    FROM pg_stat_activity WHERE datname = current_database()`;
  throw new Error(`the condition never held: ${JSON.stringify(activity)}`);
}

describe('Spending read after the subscriber lock', () => {
  const name =
    'When a confirmation waits for the lock of one that spends, then it sees that spend once granted and declines';
  it(name, async () => {
    const subscriber = await provisionedSubscriber(gw, operator);
    const first = await createPurchase(gw, publisher, { amount: '30.00' });
    const second = await createPurchase(gw, publisher, { amount: '1.00' });

    const { holder, waiter: late } = await confirmWhileLocked(subscriber, first.id, (sql) =>
      confirmPurchase(sql, second.id, subscriber, evidence, 'http://kiosque.test'),
    );

    expect(holder.outcome).toBe('confirmed');
    // 30.00 committed while it waited + 1.00 > 30.50: its read, made before, saw 0.00; only the totals its
    // claim locked, as they stand once the lock is granted, hold the 30.00.
    expect(late.outcome).toBe('declined');
    expect(late.outcome === 'declined' && late.code).toBe('weekly_ceiling');
  });

  const offerName =
    'When an offer confirmation waits for the lock of a purchase that spends, then it sees that spend and declines';
  it(offerName, async () => {
    const subscriber = await provisionedSubscriber(gw, operator);
    const first = await createPurchase(gw, publisher, { amount: '30.00' });
    const offerId = (await createSubscriptionOffer(gw, publisher)).id;

    const { holder, waiter: late } = await confirmWhileLocked<SubscriptionConfirmation>(subscriber, first.id, (sql) =>
      confirmSubscription(sql, offerId, subscriber, evidence, 'http://kiosque.test'),
    );

    expect(holder.outcome).toBe('confirmed');
    expect(late.outcome).toBe('declined');
    expect(late.outcome === 'declined' && late.code).toBe('weekly_ceiling');
    expect(await subscriptionCharges(gw, offerId)).toHaveLength(0);
  });

  const raceName =
    'When two subscribers confirm one offer at once, then the one whose claim waited is told it does not exist';
  it(raceName, async () => {
    const [first, second] = [await provisionedSubscriber(gw, operator), await provisionedSubscriber(gw, operator)];
    const offerId = (await createSubscriptionOffer(gw, publisher)).id;

    const gate = signal();
    const holdsOffer = signal();
    // The first subscriber's claim keeps the offer's row locked until the gate opens.
    const owner = inTransaction(gw.ctx.database.pool, async (sql) => {
      const result = await confirmSubscription(sql, offerId, first, evidence, 'http://kiosque.test');
      holdsOffer.raise();
      await gate.raised;
      return result;
    });
    await holdsOffer.raised;
    // The second read the offer as pending (its lock is on another subscriber), so its claim waits on the offer's row.
    const loser = inTransaction(gw.ctx.database.pool, (sql) =>
      confirmSubscription(sql, offerId, second, evidence, 'http://kiosque.test'),
    ).catch((error: unknown) => error);
    await until(async () => {
      const rows = await gw.ctx.database.prisma.$queryRaw<{ waiting: number }[]>`
        SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH spent AS%'`;
      return (rows[0]?.waiting ?? 0) > 0;
    });
    gate.raise();

    expect((await owner).outcome).toBe('confirmed');
    expect(await loser).toMatchObject({ code: 'not_found' });
    expect(await subscriptionCharges(gw, offerId)).toHaveLength(1);
  });
});
