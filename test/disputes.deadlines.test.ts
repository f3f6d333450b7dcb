import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESPONSE_WINDOW_MS, sweepOverdueDisputes } from '../src/domain/disputes.js';
import { createLogger } from '../src/logger.js';
import { disputeDeadlineQueue } from '../src/queue/disputes.js';
import { ensureDatabase, migrate } from '../src/store/migrate.js';
import { startDisputeDeadlineWorker } from '../workers/dispute-deadlines.js';
import { TEST_DATABASE_URL } from './support/env.js';
import {
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  idemKey,
  provision,
  startTestGateway,
  unique,
  type OperatorFixture,
  type PublisherFixture,
  type TestGateway,
} from './support/harness.js';
import { startPrivateRedis, type PrivateRedis } from './support/private-redis.js';
import { disputeRow } from './support/rows.js';

/**
 * This file moves the clock 7 days ahead, which would close every open dispute
 * of test files running in parallel; so it works in a database of its own.
 */
const databaseUrl = (() => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `${url.pathname}_deadlines_${process.pid}`;
  return url.toString();
})();

async function dropDatabase(): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}

let gw: TestGateway;
let operator: OperatorFixture;
let publisher: PublisherFixture;

beforeAll(async () => {
  await dropDatabase();
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  gw = startTestGateway({ databaseUrl, queuePrefix: unique('q-deadlines') });
  operator = await createOperator(gw);
  publisher = await createPublisher(gw);
});
afterAll(async () => {
  await gw.close();
  await dropDatabase();
});

/** A confirmed purchase with an open dispute; returns the dispute's id and deadline. */
async function openDispute(amount = '4.00') {
  const token = assertion(operator, await provision(gw, operator));
  const { id: purchaseId, res } = await buy(gw, publisher, token, { amount });
  expect(res.status).toBe(200);
  const opened = await gw
    .api()
    .post('/v1/disputes')
    .set(bearer(token))
    .set('Idempotency-Key', idemKey())
    .send({ purchaseId, reason: 'No answer expected' });
  expect(opened.status).toBe(201);
  return { disputeId: opened.body.id as string, purchaseId, respondBy: new Date(opened.body.respondBy) };
}

/** Every row a closure writes, for comparing one run with two. */
async function footprint(disputeId: string, purchaseId: string) {
  const db = gw.ctx.database.prisma;
  const dispute = await db.dispute.findUniqueOrThrow({ where: { id: disputeId } });
  const purchase = await db.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
  const refunds = await db.refund.findMany({ where: { purchaseId }, orderBy: { id: 'asc' } });
  const events = (await db.outboxEvent.findMany({ orderBy: { id: 'asc' } }))
    .filter((e) => {
      const data = (e.payload as { data: { id: string } }).data;
      return data.id === disputeId || data.id === purchaseId;
    })
    .map((e) => e.type);
  return {
    dispute: { status: dispute.status, closedAt: dispute.closedAt?.toISOString() },
    purchase: { status: purchase.status, refundedAmount: purchase.refundedAmount.toFixed(2) },
    refunds: refunds.map((r) => ({ id: r.id, amount: r.amount.toFixed(2), disputeId: r.disputeId })),
    events,
  };
}

describe('sweepOverdueDisputes, with an injected clock', () => {
  it('When the 7 days are not over, then the dispute stays open; once they are, then it closes as lost and refunds', async () => {
    const { disputeId, purchaseId, respondBy } = await openDispute('4.00');
    expect(respondBy.getTime() - Date.now()).toBeGreaterThan(RESPONSE_WINDOW_MS - 60_000);
    await sweepOverdueDisputes(gw.ctx.database, gw.ctx.config.publicUrl, new Date(respondBy.getTime() - 1));
    expect((await footprint(disputeId, purchaseId)).dispute.status).toBe('open');

    await sweepOverdueDisputes(gw.ctx.database, gw.ctx.config.publicUrl, respondBy);
    const after = await footprint(disputeId, purchaseId);
    expect(after.dispute).toEqual({ status: 'lost', closedAt: respondBy.toISOString() });
    expect(after.purchase).toEqual({ status: 'refunded', refundedAmount: '4.00' });
    expect(after.refunds).toEqual([{ id: expect.any(String), amount: '4.00', disputeId }]);
    // Written in one transaction at one instant, so their order by id is not meaningful.
    expect([...after.events].sort()).toEqual([
      'dispute.closed',
      'dispute.opened',
      'purchase.confirmed',
      'purchase.refunded',
    ]);
  });

  it('When the sweep runs twice, then the second run changes nothing', async () => {
    const { disputeId, purchaseId, respondBy } = await openDispute('2.50');
    const at = new Date(respondBy.getTime() + 1000);
    expect(await sweepOverdueDisputes(gw.ctx.database, gw.ctx.config.publicUrl, at)).toBeGreaterThanOrEqual(1);
    const once = await footprint(disputeId, purchaseId);
    expect(await sweepOverdueDisputes(gw.ctx.database, gw.ctx.config.publicUrl, at)).toBe(0);
    expect(await footprint(disputeId, purchaseId)).toEqual(once);
  });

  it('When two sweeps run at the same time, then each overdue dispute is closed and refunded once', async () => {
    const disputes = await Promise.all([openDispute('1.00'), openDispute('1.10'), openDispute('1.20')]);
    const at = new Date(Math.max(...disputes.map((d) => d.respondBy.getTime())) + 1000);
    const [a, b] = await Promise.all([
      sweepOverdueDisputes(gw.ctx.database, gw.ctx.config.publicUrl, at),
      sweepOverdueDisputes(gw.ctx.database, gw.ctx.config.publicUrl, at),
    ]);
    expect((a ?? 0) + (b ?? 0)).toBe(3);
    for (const { disputeId, purchaseId } of disputes) {
      const rows = await footprint(disputeId, purchaseId);
      expect(rows.dispute.status).toBe('lost');
      expect(rows.refunds).toHaveLength(1);
      expect(rows.events.filter((t) => t === 'dispute.closed')).toHaveLength(1);
    }
  });

  it('When a contested dispute passes the deadline, then the sweep leaves it to the operator', async () => {
    const { disputeId, purchaseId, respondBy } = await openDispute();
    const contested = await gw
      .api()
      .post(`/v1/disputes/${disputeId}/response`)
      .set(bearer(publisher.apiKey))
      .send({ accept: false, evidence: 'Delivered and read' });
    expect(contested.status).toBe(200);
    await sweepOverdueDisputes(gw.ctx.database, gw.ctx.config.publicUrl, new Date(respondBy.getTime() + 1000));
    const rows = await footprint(disputeId, purchaseId);
    expect(rows.dispute.status).toBe('under_review');
    expect(rows.purchase.status).toBe('disputed');
    expect(rows.refunds).toHaveLength(0);
  });
});

describe('The dispute deadline worker over BullMQ', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(() => redis.stop());

  async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const statusOf = async (id: string) => (await disputeRow(gw, id)).status;

  it('When 7 days pass without an answer, then the worker closes the dispute as lost, and does so again after Redis is flushed', async () => {
    const config = { ...gw.ctx.config, redisUrl: redis.url, queuePrefix: unique('q-dl-worker') };
    const worker = await startDisputeDeadlineWorker(
      { config, database: gw.ctx.database, logger: createLogger('silent') },
      { now: () => new Date(Date.now() + RESPONSE_WINDOW_MS + 60_000), sweepEveryMs: 200, schedulerCheckEveryMs: 200 },
    );
    const queue = disputeDeadlineQueue(config);
    try {
      const first = await openDispute();
      await until(async () => (await statusOf(first.disputeId)) === 'lost');
      expect((await footprint(first.disputeId, first.purchaseId)).purchase.status).toBe('refunded');

      await redis.client.flushall();
      const second = await openDispute();
      await until(async () => (await statusOf(second.disputeId)) === 'lost');
      expect((await footprint(second.disputeId, second.purchaseId)).refunds).toHaveLength(1);
      expect(await queue.getJobScheduler('dispute-deadlines-sweep')).toBeTruthy();
    } finally {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  });
});
