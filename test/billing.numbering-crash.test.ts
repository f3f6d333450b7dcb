import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBilling } from '../src/domain/billing.js';
import { billingHarness, postBillingRun, waitForRun, type BillingHarness } from './support/billing.js';
import { backendAlive, billingBackendsBlockedBy, chunkLeased, type HeldRow } from './support/billing-leases.js';
import { expectGapFreeNumbers } from './support/document-checks.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { assertion, buy, createOperator, createPublisher, provision, unique } from './support/harness.js';
import { openBillingRun } from './support/rows.js';
import { useGateway } from './support/world.js';
import { spawnWorkers, type WorkerProcess } from './support/worker-process.js';

const queuePrefix = unique('q-numbering-crash');
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

const workerEnv = {
  QUEUE_PREFIX: queuePrefix,
  BILLING_CHUNK_PAYERS: '2',
  BILLING_LOCK_DURATION_MS: '600000',
  BILLING_SWEEP_INTERVAL_MS: '600000',
  BILLING_CHUNK_SWEEP_INTERVAL_MS: '500',
  BILLING_LOCK_TIMEOUT_MS: '120000',
};

/**
 * Holds the operator's document counter for the year on a connection of its
 * own: a chunk that has written its documents and comes to number them waits
 * on it, inside its transaction. No hook in the worker: it meets a row lock.
 */
async function holdCounter(operatorId: string): Promise<HeldRow> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  client.on('error', () => undefined);
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await client.query('BEGIN');
  const locked = await client.query('SELECT 1 FROM document_counters WHERE operator_id = $1 FOR UPDATE', [operatorId]);
  if (locked.rowCount !== 1) throw new Error(`no document counter of ${operatorId} to hold`);
  return {
    pid: rows[0]?.pid as number,
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('A worker killed while a run numbers its documents', () => {
  it('When the worker is SIGKILLed with a chunk’s documents written and their numbers being taken, then the successor numbers them with no gap', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const buyOnce = async () => {
      const { res } = await buy(gw, publisher, assertion(op, await provision(gw, op)), { amount: '1.10' });
      expect(res.status).toBe(200);
    };
    // A first run numbers one document, so the year's counter exists (number 1).
    await buyOnce();
    expect((await runBilling(gw.ctx.database, await openBillingRun(gw, op.id))).status).toBe('done');
    for (let k = 0; k < 4; k++) await buyOnce();

    const held = await holdCounter(op.id);
    const doomed = spawnWorkers(workerEnv);
    spawned.push(doomed);
    const runId = (await postBillingRun(gw, op)).body.id as string;
    let orphan: number | undefined;
    await waitFor('a chunk to wait on the document counter', async () => {
      [orphan] = await billingBackendsBlockedBy(gw.ctx.database.pool, held.pid);
      return orphan !== undefined && (await chunkLeased(gw.ctx.database.pool, runId));
    });
    // The kill lands mid-issue: the blocked statement is the counter's, which a chunk reaches only once it has
    // written its documents, their lines and their journal entries.
    const { rows: waiting } = await gw.ctx.database.pool.query<{ query: string }>(
      'SELECT query FROM pg_stat_activity WHERE pid = $1',
      [orphan],
    );
    expect(waiting[0]?.query).toMatch(/INSERT INTO document_counters/);
    expect((await doomed.kill('SIGKILL')).signal).toBe('SIGKILL');

    await waitFor(
      'the orphaned backend to stop',
      async () => !(await backendAlive(gw.ctx.database.pool, orphan as number)),
    );
    await held.release();
    const { rows: before } = await gw.ctx.database.pool.query<{ documents: number; last_number: number }>(
      `SELECT (SELECT count(*)::int FROM invoices WHERE billing_run_id = $2) AS documents,
              (SELECT last_number FROM document_counters WHERE operator_id = $1) AS last_number`,
      [op.id, runId],
    );
    expect(before[0]).toEqual({ documents: 0, last_number: 1 });

    const successor = spawnWorkers(workerEnv);
    spawned.push(successor);
    expect(await waitForRun(gw, op, runId, 45_000)).toMatchObject({ status: 'done', invoiceCount: 4 });
    await expectGapFreeNumbers(gw, op.id);
    const { rows: after } = await gw.ctx.database.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM invoices WHERE operator_id = $1',
      [op.id],
    );
    expect(after[0]?.n).toBe(5);
    expect((await successor.kill('SIGTERM')).code).toBe(0);
  });
});
