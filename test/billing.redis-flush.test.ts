import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  billingHarness,
  expectEachOnExactlyOneInvoice,
  postBillingRun,
  waitForRun,
  type BillingHarness,
} from './support/billing.js';
import {
  assertion,
  buy,
  createOperator,
  createPublisher,
  provision,
  startTestGateway,
  unique,
  type OperatorFixture,
  type PublisherFixture,
  type TestGateway,
} from './support/harness.js';
import { startPrivateRedis, type PrivateRedis } from './support/private-redis.js';

let redis: PrivateRedis;
let gw: TestGateway;
let billing: BillingHarness;
let publisher: PublisherFixture;

beforeAll(async () => {
  redis = await startPrivateRedis();
  gw = startTestGateway({ redisUrl: redis.url, queuePrefix: unique('q-billing-flush') });
  billing = billingHarness(gw);
  publisher = await createPublisher(gw);
});
afterAll(async () => {
  await billing.close();
  await gw.close();
  await redis.stop();
});

async function operatorWithPurchases(count: number): Promise<{ op: OperatorFixture; purchaseIds: string[] }> {
  const op = await createOperator(gw);
  const token = assertion(op, await provision(gw, op));
  const purchaseIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const { id, res } = await buy(gw, publisher, token, { amount: '2.00' });
    expect(res.status).toBe(200);
    purchaseIds.push(id);
  }
  return { op, purchaseIds };
}

describe('Redis flushed while billing runs are queued', () => {
  it('When Redis loses queued runs before any worker saw them, then a starting worker re-enqueues them from PostgreSQL', async () => {
    const a = await operatorWithPurchases(3);
    const b = await operatorWithPurchases(2);
    const runA = (await postBillingRun(gw, a.op)).body.id as string;
    const runB = (await postBillingRun(gw, b.op)).body.id as string;
    expect(await billing.queue.getJobState(runA)).toBe('waiting');

    await redis.client.flushall();
    expect(await billing.queue.getJobState(runA)).toBe('unknown');

    await billing.startWorker();
    expect(await waitForRun(gw, a.op, runA)).toMatchObject({ status: 'done', invoiceCount: 1, total: '6.00' });
    expect(await waitForRun(gw, b.op, runB)).toMatchObject({ status: 'done', invoiceCount: 1, total: '4.00' });
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, [...a.purchaseIds, ...b.purchaseIds]);
  });

  it('When Redis is flushed under a running worker and a run never reached the queue, then the periodic sweep bills it once', async () => {
    await billing.startWorker({ sweepIntervalMs: 300 });
    await redis.client.flushall();
    const { op, purchaseIds } = await operatorWithPurchases(2);
    // As if the gateway committed the run and then failed to reach Redis.
    const enqueue = gw.ctx.enqueueBillingRun;
    gw.ctx.enqueueBillingRun = undefined;
    const runId = (await postBillingRun(gw, op)).body.id as string;
    gw.ctx.enqueueBillingRun = enqueue;

    expect(await waitForRun(gw, op, runId)).toMatchObject({ status: 'done', invoiceCount: 1, total: '4.00' });
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, purchaseIds);
  });
});
