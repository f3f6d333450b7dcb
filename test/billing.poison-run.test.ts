import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { BILLING_QUEUE } from '../src/queue/billing.js';
import { bullConnection } from '../src/queue/connection.js';
import { useBillingHarness, expectEachOnExactlyOneInvoice, waitForRun } from './support/billing.js';
import { assertion, bearer, buy, createOperator, createPublisher, provision, unique } from './support/harness.js';
import { openBillingRun } from './support/rows.js';
import { useGateway } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q-poison') });
const billing = useBillingHarness(gw);

describe('A billing run whose job used up its attempts', () => {
  it('When the recovery sweep finds its job failed for good, then the run is marked failed instead of being retried forever', async () => {
    const operator = await createOperator(gw);
    const runId = await openBillingRun(gw, operator.id);
    await billing.queue.add('billing-run', { billingRunId: runId }, { jobId: runId, attempts: 1 });
    // Stands in for a worker that dies or throws on this run every time.
    const poisoned = new Worker(BILLING_QUEUE, () => Promise.reject(new Error('worker died on this run')), {
      connection: bullConnection(gw.ctx.config.redisUrl),
      prefix: gw.ctx.config.queuePrefix,
    });
    for (let i = 0; i < 100 && (await billing.queue.getJobState(runId)) !== 'failed'; i++)
      await new Promise((r) => setTimeout(r, 50));
    await poisoned.close();
    expect(await billing.queue.getJobState(runId)).toBe('failed');

    const worker = await billing.startWorker();
    const res = await gw.api().get(`/v1/operator/billing-runs/${runId}`).set(bearer(operator.apiKey));
    expect(res.body).toMatchObject({ status: 'failed', error: 'worker died on this run' });
    expect(await billing.queue.getJobState(runId)).toBe('failed');
    await worker.close();
  });

  it('When the job failed because BullMQ found it stalled, then the run is not failed: the job is queued again and the run billed', async () => {
    const publisher = await createPublisher(gw);
    const operator = await createOperator(gw);
    const { id: purchaseId, res } = await buy(gw, publisher, assertion(operator, await provision(gw, operator)), {
      amount: '1.20',
    });
    expect(res.status).toBe(200);
    const runId = await openBillingRun(gw, operator.id);
    await billing.queue.add('billing-run', { billingRunId: runId }, { jobId: runId, attempts: 1 });
    // Fails the job with the reason BullMQ gives a job whose workers kept dying (its stall detection).
    const stalling = new Worker(
      BILLING_QUEUE,
      () => Promise.reject(new Error('job stalled more than allowable limit')),
      { connection: bullConnection(gw.ctx.config.redisUrl), prefix: gw.ctx.config.queuePrefix },
    );
    for (let i = 0; i < 100 && (await billing.queue.getJobState(runId)) !== 'failed'; i++)
      await new Promise((r) => setTimeout(r, 50));
    await stalling.close();
    expect(await billing.queue.getJobState(runId)).toBe('failed');

    await billing.startWorker();
    const done = await waitForRun(gw, operator, runId);
    expect(done).toMatchObject({ status: 'done', invoiceCount: 1, total: '1.20' });
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, [purchaseId]);
  });
});
