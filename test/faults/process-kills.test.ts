import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayProcess } from '../support/gateway-process.js';
import {
  backendAlive,
  backendsBlockedBy,
  chunkLeased,
  clientProcessOf,
  holdPurchase,
  waitForWorkerInsideChunk,
} from '../support/billing-leases.js';
import type { WorkerProcess } from '../support/worker-process.js';
import { expectInvariants, expectNoServerErrors } from './support/invariants.js';
import { startFaultStack, type FaultStack } from './support/stack.js';
import { assertionFor, confirmedCount, makeFixtures, runLoad, TrafficLog, waitUntil } from './support/traffic.js';

/** "Resume within seconds of a crash": generous for a loaded two-core machine. */
const RESUME_BOUND_MS = 30_000;

let stack: FaultStack;

beforeAll(async () => {
  stack = await startFaultStack('kills');
});
afterAll(() => stack?.close());

const workerEnv = { BILLING_LOCK_DURATION_MS: '2000', BILLING_SWEEP_INTERVAL_MS: '60000' };
/** BullMQ would wait ten minutes for a dead worker's job: only the PostgreSQL lease can hand the run on in time. */
const leaseOnlyEnv = {
  BILLING_LOCK_DURATION_MS: '600000',
  BILLING_SWEEP_INTERVAL_MS: '600000',
  // Longer than the test waits for the orphaned backend: only PostgreSQL's dead-client check can end its wait.
  BILLING_LOCK_TIMEOUT_MS: '120000',
};

describe('kill -9 of a gateway and of a worker under load', () => {
  it('When one of two gateways is killed with a confirmation in flight, then clients carry on through the other, the cut confirmation retried there holds, and every answer they got holds', async () => {
    const gateways: GatewayProcess[] = [await stack.gateway(), await stack.gateway()];
    const workers = await stack.workers(workerEnv);
    try {
      const [survivor, doomed] = gateways as [GatewayProcess, GatewayProcess];
      const log = new TrafficLog('gateway-kill');
      await log.open();
      const fixtures = await makeFixtures(log, survivor.url, 11);
      // The last subscriber is the cut confirmation's own: the load never waits on its locks.
      const cutRef = fixtures.subscribers[10] as string;
      let running = true;
      const alive = new Set(gateways);
      const load = runLoad(
        log,
        { ...fixtures, subscribers: fixtures.subscribers.slice(0, 10) },
        { targets: () => [...alive].map((g) => g.url), ratePerSecond: 2, running: () => running },
      );
      await waitUntil(() => confirmedCount(log) >= 5, 120_000, 'traffic flowing');

      // A confirmation the kill is sure to cut, without a hook in the gateway: its purchase row is held, as a
      // concurrent refund would hold it, so the doomed gateway's transaction waits on it until the kill.
      const created = await log.send(survivor.url, 'POST', '/v1/purchases', {
        token: fixtures.publisher.apiKey,
        key: 'purchase-cut',
        body: { amount: '1.00', currency: 'EUR', description: 'Article cut by the kill', channel: 'isp' },
      });
      expect(created.status).toBe(201);
      const purchaseId = (created.body as { id: string }).id;
      const held = await holdPurchase(stack.databaseUrl, purchaseId);
      const confirmPath = `/v1/purchases/${purchaseId}/confirm`;
      const cut = log.send(doomed.url, 'POST', confirmPath, { token: assertionFor(fixtures.operator, cutRef) });
      let waiter: number | undefined;
      await waitUntil(
        async () => (waiter = (await backendsBlockedBy(stack.sql, held.pid))[0]) !== undefined,
        30_000,
        'the doomed gateway waiting on the held purchase',
      );
      // The kill lands on the process whose transaction waits, while its request is in flight.
      expect(await clientProcessOf(stack.sql, waiter as number)).toBe(doomed.child.pid);
      expect(log.inFlightTo(doomed.url)).toBeGreaterThan(0);
      doomed.child.kill('SIGKILL');
      const killedAt = Date.now();
      alive.delete(doomed);
      const cutExchange = await cut;
      expect(cutExchange.status).toBeNull();
      expect(cutExchange.error).not.toBeNull();
      expect(cutExchange.endedAt).toBeGreaterThanOrEqual(killedAt);
      await held.release();
      // The dead gateway's transaction dies with it (it never got to COMMIT), and the client's retry on the
      // survivor confirms the purchase once.
      await waitUntil(async () => !(await backendAlive(stack.sql, waiter as number)), 30_000, 'the orphan ended');
      const retried = await log.send(survivor.url, 'POST', confirmPath, {
        token: assertionFor(fixtures.operator, cutRef),
      });
      expect(retried.status).toBe(200);
      expect((retried.body as { status: string }).status).toBe('confirmed');
      await new Promise((r) => setTimeout(r, 2_000));
      running = false;
      await load;
      expect(doomed.child.signalCode).toBe('SIGKILL');

      expectNoServerErrors(log);
      await expectInvariants(stack.sql, log, fixtures, survivor.url);
    } finally {
      // The next test's workers must be the only ones, whatever happened here.
      expect((await workers.kill('SIGTERM')).code).toBe(0);
    }
  });

  it('When the worker is killed inside a billing chunk, then PostgreSQL ends its lease and a successor finishes the run within seconds, each purchase on exactly one invoice', async () => {
    const gateway = await stack.gateway();
    const log = new TrafficLog('worker-kill');
    await log.open();
    const fixtures = await makeFixtures(log, gateway.url, 5);
    let running = true;
    const load = runLoad(log, fixtures, { targets: () => [gateway.url], ratePerSecond: 1.5, running: () => running });
    await waitUntil(() => confirmedCount(log) >= 8, 120_000, 'purchases confirmed');

    // A purchase held as a slow confirmation would (the oldest: its journey is over), so the chunk billing it
    // waits inside its transaction: the kill then lands mid-chunk, with no hook in the worker.
    const [oldest] = (
      await stack.sql.query<{ id: string }>(
        `SELECT p.id FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
         WHERE s.operator_id = $1 AND p.status = 'confirmed' AND p.invoice_id IS NULL ORDER BY p.confirmed_at LIMIT 1`,
        [fixtures.operator.id],
      )
    ).rows;
    const held = await holdPurchase(stack.databaseUrl, oldest?.id as string);
    const doomed: WorkerProcess = await stack.workers(leaseOnlyEnv);
    const posted = await log.send(gateway.url, 'POST', '/v1/operator/billing-runs', {
      token: fixtures.operator.apiKey,
      key: 'run-under-kill',
      body: {},
    });
    expect(posted.status).toBe(202);
    const runId = (posted.body as { id: string }).id;
    const orphan = await waitForWorkerInsideChunk(stack.sql, held, runId);
    // The backend holding the lease is the doomed worker's, not a leftover's.
    expect(await clientProcessOf(stack.sql, orphan)).toBe(doomed.child.pid);
    const { signal } = await doomed.kill('SIGKILL');
    expect(signal).toBe('SIGKILL');
    const killedAt = Date.now();
    // PostgreSQL notices the dead client while the backend still waits, and ends it with its lease.
    await waitUntil(async () => !(await backendAlive(stack.sql, orphan)), 30_000, 'the orphaned backend stopped');
    expect(await chunkLeased(stack.sql, runId)).toBe(false);
    await held.release();
    const statusOf = async () =>
      (await stack.sql.query<{ status: string }>('SELECT status FROM billing_runs WHERE id = $1', [runId])).rows[0]
        ?.status;
    expect(await statusOf()).toBe('running');
    expect(
      Number(
        (await stack.sql.query<{ n: string }>('SELECT count(*) AS n FROM invoices WHERE billing_run_id = $1', [runId]))
          .rows[0]?.n,
      ),
    ).toBe(0);

    // Measured from the successor being up: how long a process takes to start is not the resume.
    await stack.workers(leaseOnlyEnv);
    const successorUpAt = Date.now();
    const doneAt = await waitUntil(
      async () => (await statusOf()) === 'done',
      RESUME_BOUND_MS * 4,
      'billing run done after the crash',
    );
    expect(
      doneAt - successorUpAt,
      `ms from the successor up to the run done (${doneAt - killedAt} ms from the kill)`,
    ).toBeLessThan(RESUME_BOUND_MS);
    running = false;
    await load;

    expectNoServerErrors(log);
    await expectInvariants(stack.sql, log, fixtures, gateway.url);
  });
});
