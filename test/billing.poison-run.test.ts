import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBillingRun } from '../src/domain/billing.js';
import { BILLING_QUEUE } from '../src/queue/billing.js';
import { bullConnection } from '../src/queue/connection.js';
import { billingHarness, type BillingHarness } from './support/billing.js';
import { bearer, createOperator, startTestGateway, unique, type TestGateway } from './support/harness.js';

let gw: TestGateway;
let billing: BillingHarness;

beforeAll(() => {
  gw = startTestGateway({ queuePrefix: unique('q-poison') });
  billing = billingHarness(gw);
});
afterAll(async () => {
  await billing.close();
  await gw.close();
});

describe('A billing run whose job used up its attempts', () => {
  it('When the recovery sweep finds its job failed for good, then the run is marked failed instead of being retried forever', async () => {
    const operator = await createOperator(gw);
    const run = await gw.ctx.db.$transaction((tx) => createBillingRun(tx, operator.id, new Date()));
    await billing.queue.add('billing-run', { billingRunId: run.id }, { jobId: run.id, attempts: 1 });
    // Stands in for a worker that dies or throws on this run every time.
    const poisoned = new Worker(BILLING_QUEUE, () => Promise.reject(new Error('worker died on this run')), {
      connection: bullConnection(gw.ctx.config.redisUrl),
      prefix: gw.ctx.config.queuePrefix,
    });
    for (let i = 0; i < 100 && (await billing.queue.getJobState(run.id)) !== 'failed'; i++)
      await new Promise((r) => setTimeout(r, 50));
    await poisoned.close();
    expect(await billing.queue.getJobState(run.id)).toBe('failed');

    await billing.startWorker();
    const res = await gw.api().get(`/v1/operator/billing-runs/${run.id}`).set(bearer(operator.apiKey));
    expect(res.body).toMatchObject({ status: 'failed', error: 'worker died on this run' });
    expect(await billing.queue.getJobState(run.id)).toBe('failed');
  });
});
