import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmPurchase, type Confirmation } from '../src/domain/purchases.js';
import { inTransaction } from '../src/store/sql.js';
import {
  createOperator,
  createPublisher,
  createPurchase,
  provision,
  startTestGateway,
  type OperatorFixture,
  type PublisherFixture,
  type TestGateway,
} from './support/harness.js';

let gw: TestGateway;
let operator: OperatorFixture;
let publisher: PublisherFixture;

beforeAll(async () => {
  gw = startTestGateway();
  operator = await createOperator(gw, { limits: { perPurchase: '40.00', weekly: '30.50', monthly: '100.00' } });
  publisher = await createPublisher(gw);
});
afterAll(() => gw.close());

const evidence = { ip: '203.0.113.7', userAgent: 'lock-order test', pageVersion: 'api-v1', assertionId: 'lock-order' };

/**
 * True once a backend of this database waits for a row lock in the confirmation's locking statement
 * (pg_stat_activity keeps the first kilobyte of a statement: its start is what can be matched).
 */
async function confirmationWaitsForLock(): Promise<boolean> {
  const rows = await gw.ctx.db.$queryRaw<{ waiting: number }[]>`
    SELECT count(*)::int AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
      AND query LIKE 'SELECT s.id, s.operator_id AS "operatorId"%'`;
  return (rows[0]?.waiting ?? 0) > 0;
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 1000; tries++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const activity = await gw.ctx.db.$queryRaw<unknown[]>`
    SELECT wait_event_type, wait_event, state, left(query, 80) AS query
    FROM pg_stat_activity WHERE datname = current_database()`;
  throw new Error(`the condition never held: ${JSON.stringify(activity)}`);
}

describe('Spending read after the subscriber lock', () => {
  const name =
    'When a confirmation waits for the lock of one that spends, then it sees that spend once granted and declines';
  it(name, async () => {
    const ref = await provision(gw, operator);
    const subscriber = await gw.ctx.db.subscriber.findFirstOrThrow({
      where: { operatorId: operator.id, externalRef: ref },
    });
    const first = await createPurchase(gw, publisher, { amount: '30.00' });
    const second = await createPurchase(gw, publisher, { amount: '1.00' });

    let openGate = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let holdsLock = () => {};
    const locked = new Promise<void>((resolve) => {
      holdsLock = resolve;
    });
    // Session one confirms 30.00 and keeps its transaction (and the subscriber's row lock) open until the gate opens.
    const holder = inTransaction(gw.ctx.pool, async (sql) => {
      const result = await confirmPurchase(sql, first.id, subscriber, evidence, 'http://kiosque.test');
      holdsLock();
      await gate;
      return result;
    });
    await locked;
    // Session two starts its confirmation while session one holds the lock: its locking statement must wait.
    const waiter: Promise<Confirmation> = inTransaction(gw.ctx.pool, (sql) =>
      confirmPurchase(sql, second.id, subscriber, evidence, 'http://kiosque.test'),
    );
    await until(confirmationWaitsForLock);
    openGate();

    expect((await holder).outcome).toBe('confirmed');
    const late = await waiter;
    // 30.00 committed while it waited + 1.00 > 30.50: only a read made after the lock was granted sees the 30.00.
    expect(late.outcome).toBe('declined');
    expect(late.outcome === 'declined' && late.code).toBe('weekly_ceiling');
  });
});
