import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  billingHarness,
  expectEachOnExactlyOneInvoice,
  postBillingRun,
  refund,
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
  type TestGateway,
} from './support/harness.js';
import { spawnWorkers, type WorkerProcess } from './support/worker-process.js';

let gw: TestGateway;
let billing: BillingHarness;
const queuePrefix = unique('q-billing-crash');
const spawned: WorkerProcess[] = [];

beforeAll(() => {
  gw = startTestGateway({ queuePrefix });
  billing = billingHarness(gw);
});
afterAll(async () => {
  await Promise.all(spawned.map((w) => w.kill('SIGKILL')));
  await billing.close();
  await gw.close();
});

const workerEnv = (extra: Record<string, string> = {}) => ({
  QUEUE_PREFIX: queuePrefix,
  BILLING_LOCK_DURATION_MS: '2000',
  BILLING_SWEEP_INTERVAL_MS: '60000',
  ...extra,
});

describe('A worker process killed half-way through a run', () => {
  it('When the worker is SIGKILLed inside the run’s transaction, then nothing is kept, and the next worker bills each purchase and refund once', async () => {
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

    const doomed = spawnWorkers(workerEnv({ BILLING_PAUSE_BEFORE_COMMIT_MS: '120000' }));
    spawned.push(doomed);
    const runId = (await postBillingRun(gw, op)).body.id as string;
    await doomed.waitForLog(/billing run paused before commit/);
    expect((await gw.ctx.db.billingRun.findUniqueOrThrow({ where: { id: runId } })).status).toBe('running');
    const { signal } = await doomed.kill('SIGKILL');
    expect(signal).toBe('SIGKILL');

    // The transaction died with its connection: no invoice, no claim survives.
    expect(await gw.ctx.db.invoice.count({ where: { billingRunId: runId } })).toBe(0);
    expect(await gw.ctx.db.purchase.count({ where: { id: { in: purchaseIds }, invoiceId: { not: null } } })).toBe(0);

    const successor = spawnWorkers(workerEnv());
    spawned.push(successor);
    const run = await waitForRun(gw, op, runId, 45_000);
    expect(run).toMatchObject({ status: 'done', invoiceCount: 3, total: '10.50' });
    await expectEachOnExactlyOneInvoice(gw.ctx.db, purchaseIds, refundIds);

    // SIGTERM lets the successor finish and exit cleanly.
    const stopped = await successor.kill('SIGTERM');
    expect(stopped.code).toBe(0);
  });

  it('When the worker gets SIGTERM in the middle of a run, then it finishes the run before it exits', async () => {
    const publisher = await createPublisher(gw);
    const op = await createOperator(gw);
    const token = assertion(op, await provision(gw, op));
    const { id, res } = await buy(gw, publisher, token, { amount: '2.40' });
    expect(res.status).toBe(200);

    const worker = spawnWorkers(workerEnv({ BILLING_PAUSE_BEFORE_COMMIT_MS: '1500' }));
    spawned.push(worker);
    const runId = (await postBillingRun(gw, op)).body.id as string;
    await worker.waitForLog(/billing run paused before commit/);
    const stopped = await worker.kill('SIGTERM');
    expect(stopped.code).toBe(0);

    const run = await gw.ctx.db.billingRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe('done');
    expect(run.total.toFixed(2)).toBe('2.40');
    await expectEachOnExactlyOneInvoice(gw.ctx.db, [id]);
  });
});
