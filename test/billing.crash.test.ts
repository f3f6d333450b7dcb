import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  billingHarness,
  expectEachOnExactlyOneInvoice,
  postBillingRun,
  refund,
  waitForRun,
  type BillingHarness,
} from './support/billing.js';
import { assertion, buy, createOperator, createPublisher, provision, unique } from './support/harness.js';
import { backendAlive, chunkLeased, holdPurchase, waitForWorkerInsideChunk } from './support/billing-leases.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { spawnWorkers, type WorkerProcess } from './support/worker-process.js';
import { billingRunStatus, documentCount } from './support/rows.js';
import { useGateway } from './support/world.js';

const queuePrefix = unique('q-billing-crash');
const gw = useGateway({ queuePrefix });
let billing: BillingHarness;
const spawned: WorkerProcess[] = [];

beforeAll(() => {
  billing = billingHarness(gw);
});
afterAll(async () => {
  await Promise.all(spawned.map((w) => w.kill('SIGKILL')));
  await billing.close();
});

/**
 * BullMQ's lock outlives each test: a killed worker's job stays claimed, so
 * only the PostgreSQL lease (the chunk's row lock, dropped with its
 * connection) and the chunk sweep can hand the run to a successor.
 */
const workerEnv = (extra: Record<string, string> = {}) => ({
  QUEUE_PREFIX: queuePrefix,
  BILLING_LOCK_DURATION_MS: '600000',
  BILLING_SWEEP_INTERVAL_MS: '600000',
  BILLING_CHUNK_SWEEP_INTERVAL_MS: '500',
  // Longer than the test waits for the orphaned backend to stop: only the dead-client check can stop it.
  BILLING_LOCK_TIMEOUT_MS: '120000',
  ...extra,
});

/** The run's oldest billable purchase: its journey (create, confirm, refund) is long over. */
const firstPurchase = (ids: readonly string[]) => ids[0] as string;

describe('A worker process killed half-way through a run', () => {
  it('When the worker is SIGKILLed inside a chunk’s transaction, then nothing of the chunk is kept, its backend stops, and a successor bills each purchase and refund once', async () => {
    const publisher = await createPublisher(gw);
    const op = await createOperator(gw);
    const purchaseIds: string[] = [];
    const refundIds: string[] = [];
    for (let s = 0; s < 3; s++) {
      const token = assertion(op, await provision(gw, op));
      for (let p = 0; p < 3; p++) {
        const { id, res } = await buy(gw, publisher, token, { amount: '1.25' });
        expect(res.status).toBe(200);
        purchaseIds.push(id);
      }
      refundIds.push(await refund(gw, publisher.apiKey, purchaseIds[purchaseIds.length - 1] as string, '0.25'));
    }

    // A purchase held as a slow confirmation would: the chunk claiming it waits inside its transaction.
    const held = await holdPurchase(TEST_DATABASE_URL, firstPurchase(purchaseIds));
    const doomed = spawnWorkers(workerEnv());
    spawned.push(doomed);
    const runId = (await postBillingRun(gw, op)).body.id as string;
    const orphan = await waitForWorkerInsideChunk(gw.ctx.database.pool, held, runId);
    const { signal } = await doomed.kill('SIGKILL');
    expect(signal).toBe('SIGKILL');

    // PostgreSQL notices the dead client while its backend still waits on the held row (its lock timeout is
    // two minutes, the wait at most 30 s), and ends it: the lease is gone.
    await waitFor('the orphaned backend to stop', async () => !(await backendAlive(gw.ctx.database.pool, orphan)));
    expect(await chunkLeased(gw.ctx.database.pool, runId)).toBe(false);
    await held.release();
    expect(await billingRunStatus(gw, runId)).toBe('running');
    expect(await documentCount(gw, runId)).toBe(0);
    expect(
      await gw.ctx.database.prisma.purchase.count({ where: { id: { in: purchaseIds }, invoiceId: { not: null } } }),
    ).toBe(0);
    // The dead worker's job is still claimed in BullMQ for ten minutes: it cannot be what resumes the run.
    expect(await billing.queue.getJobState(runId)).toBe('active');

    const successor = spawnWorkers(workerEnv());
    spawned.push(successor);
    const run = await waitForRun(gw, op, runId, 45_000);
    expect(run).toMatchObject({ status: 'done', invoiceCount: 3, total: '10.50' });
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, purchaseIds, refundIds);
    await successor.waitForLog(/billing run finished by the sweep/);

    const stopped = await successor.kill('SIGTERM');
    expect(stopped.code).toBe(0);
  });

  it('When the worker gets SIGTERM in the middle of a chunk, then it finishes the run before it exits', async () => {
    const publisher = await createPublisher(gw);
    const op = await createOperator(gw);
    const token = assertion(op, await provision(gw, op));
    const { id, res } = await buy(gw, publisher, token, { amount: '2.40' });
    expect(res.status).toBe(200);

    const held = await holdPurchase(TEST_DATABASE_URL, id);
    const worker = spawnWorkers(workerEnv());
    spawned.push(worker);
    const runId = (await postBillingRun(gw, op)).body.id as string;
    await waitForWorkerInsideChunk(gw.ctx.database.pool, held, runId);
    const stopping = worker.kill('SIGTERM');
    await worker.waitForLog(/shutting down workers/);
    await held.release();
    const stopped = await stopping;
    expect(stopped.code).toBe(0);

    const run = await gw.ctx.database.prisma.billingRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe('done');
    expect(run.total.toFixed(2)).toBe('2.40');
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, [id]);
  });
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
