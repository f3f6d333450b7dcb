import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../src/store/db.js';
import { holdPurchase, waitForWorkerInsideChunk } from '../support/billing-leases.js';
import { TEST_ADMIN_API_KEY } from '../support/env.js';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process.js';
import { freePort } from '../support/private-redis.js';
import { spawnWorkers, type WorkerProcess } from '../support/worker-process.js';
import { gone, startFormation, type Formation, type FormationNode } from './support/auto-failover.js';
import { expectInvariants, expectNoServerErrors } from './support/invariants.js';
import { startRedisOn, type RedisServer } from './support/stack.js';
import { confirmedCount, makeFixtures, runLoad, TrafficLog, waitUntil, type Exchange } from './support/traffic.js';

/** API.md v1.2: writes resume within 30 s of the kill; a billing run finishes within 2 minutes of writes resuming. */
const RESUME_BOUND_MS = 30_000;
const BILLING_BOUND_MS = 120_000;
/** A formation, two gateways and a worker process start in about a minute on the shared two-core machine. */
const TEST_TIMEOUT_MS = 600_000;

interface Stage {
  formation: Formation;
  redis: RedisServer;
  /** Through the same host selector as Kiosque: the checks afterwards read whichever node is the primary then. */
  sql: pg.Pool;
  gateways: GatewayProcess[];
  workers: WorkerProcess;
}

/** A formation of the test's own, and real gateway and worker processes on its multi-host URL. */
async function startStage(name: string, stages: Partial<Stage>): Promise<Stage> {
  stages.formation = await startFormation(name, `kiosque_${name}`);
  stages.redis = await startRedisOn(await freePort());
  const env = {
    DATABASE_URL: stages.formation.databaseUrl,
    REDIS_URL: stages.redis.url,
    QUEUE_PREFIX: `kq-fault-failover-${name}`,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
    ADMIN_API_KEY: TEST_ADMIN_API_KEY,
    BILLING_CHUNK_SWEEP_INTERVAL_MS: '2000',
  };
  stages.gateways = [];
  // One after the other: the first applies the migrations.
  for (let i = 0; i < 2; i++) stages.gateways.push(await spawnGateway(env, 180_000));
  stages.workers = spawnWorkers({ ...env, BILLING_LOCK_DURATION_MS: '2000' });
  await stages.workers.waitForLog(/Kiosque workers started/, 180_000);
  stages.sql = createPool(stages.formation.databaseUrl, 4);
  return stages as Stage;
}

async function stopStage(stage: Partial<Stage>): Promise<void> {
  for (const g of stage.gateways ?? [])
    if (g.child.exitCode === null && g.child.signalCode === null) g.child.kill('SIGKILL');
  await stage.workers?.kill('SIGKILL');
  await stage.sql?.end().catch(() => undefined);
  await stage.redis?.kill().catch(() => undefined);
  await stage.formation?.destroy();
}

const answered2xx = (e: Exchange) => e.status !== null && e.status >= 200 && e.status < 300;
const running = (p: { child: { exitCode: number | null; signalCode: NodeJS.Signals | null } }) =>
  p.child.exitCode === null && p.child.signalCode === null;

/**
 * Load (create, confirm, refund) on two gateways, a billing run held inside a
 * chunk on the primary, then `kill` strikes the primary. Returns what the
 * checks need.
 */
async function failoverUnderLoad(stage: Stage, kill: (primary: FormationNode) => Promise<number[]>) {
  const { formation, gateways } = stage;
  const [first] = gateways as [GatewayProcess];
  const log = new TrafficLog(`failover-${Date.now()}`);
  await log.open();
  const fixtures = await makeFixtures(log, first.url, 10);
  let loading = true;
  const load = runLoad(log, fixtures, {
    targets: () => gateways.map((g) => g.url),
    ratePerSecond: 3,
    running: () => loading,
    retryForMs: 60_000,
    refundShare: 0.3,
  });
  await waitUntil(() => confirmedCount(log) >= 10, 180_000, 'traffic flowing');

  // A billing run in progress at the kill: its chunk waits on a purchase held on the primary, as behind a refund.
  const before = await formation.primary();
  expect(before?.name).toBe('node1');
  const oldPrimary = before as FormationNode;
  const [oldest] = (
    await stage.sql.query<{ id: string }>(
      `SELECT p.id FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
       WHERE s.operator_id = $1 AND p.status = 'confirmed' AND p.invoice_id IS NULL ORDER BY p.confirmed_at LIMIT 1`,
      [fixtures.operator.id],
    )
  ).rows;
  const held = await holdPurchase(formation.urlOf(oldPrimary), oldest?.id as string);
  const posted = await log.send(first.url, 'POST', '/v1/operator/billing-runs', {
    token: fixtures.operator.apiKey,
    key: 'run-under-failover',
    body: {},
  });
  expect(posted.status).toBe(202);
  const runId = (posted.body as { id: string }).id;
  await waitForWorkerInsideChunk(stage.sql, held, runId, 120_000);
  const keysBefore = new Set(log.exchanges.map((e) => e.key));

  const killed = await kill(oldPrimary);
  const killedAt = Date.now();
  // The kill landed: every process it struck is gone.
  await waitUntil(() => killed.every(gone), 10_000, `killed processes ${killed.join(',')} gone`);

  // Writes resume: a purchase no one asked for before the kill is created, answered 201.
  const resumedAt = await waitUntil(
    () =>
      log.exchanges.some(
        (e) => e.startedAt > killedAt && e.path === '/v1/purchases' && e.status === 201 && !keysBefore.has(e.key),
      ),
    RESUME_BOUND_MS * 2,
    'a new purchase created after the kill',
  );
  await new Promise((r) => setTimeout(r, 5_000));
  loading = false;
  await load;
  await held.release().catch(() => undefined);

  // Writes have resumed, so this pool's first query is served, though its new connection may first try the dead node.
  const statusOf = async () =>
    (await stage.sql.query<{ status: string }>('SELECT status FROM billing_runs WHERE id = $1', [runId])).rows[0]
      ?.status;
  const billedAt = await waitUntil(async () => (await statusOf()) === 'done', BILLING_BOUND_MS * 2, 'billing run done');
  return { log, fixtures, killedAt, resumedAt, billedAt, oldPrimary, runId };
}

/**
 * Polls a node directly, every 100 ms: how often it looked like a primary
 * without a streaming standby (an old primary restarted in place, the node
 * whose answers were lost before), and how many Kiosque sessions it held then
 * that had done more than the host selector's own check.
 */
function watchLonePrimary(url: string) {
  let watching = true;
  const seen = { lonePolls: 0, kiosqueSessions: 0 };
  const done = (async () => {
    while (watching) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 500, query_timeout: 500 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const { rows } = await client.query<{ lone: boolean; sessions: number }>(
          `SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'
                  AND NOT EXISTS (SELECT 1 FROM pg_stat_replication WHERE state = 'streaming') AS lone,
                  (SELECT count(*)::int FROM pg_stat_activity
                    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                      AND application_name IN ('', 'kiosque-billing')
                      AND query <> '' AND query NOT LIKE '%pg_is_in_recovery%') AS sessions`,
        );
        if (rows[0]?.lone) {
          seen.lonePolls += 1;
          seen.kiosqueSessions += rows[0].sessions;
        }
      } catch {
        // Down, or starting: not a primary.
      } finally {
        await client.end().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      watching = false;
      await done;
      return seen;
    },
  };
}

/** What holds after either kind of kill. */
async function expectSurvived(stage: Stage, outcome: Awaited<ReturnType<typeof failoverUnderLoad>>): Promise<void> {
  const { log, fixtures, killedAt, resumedAt, billedAt, runId } = outcome;
  console.log(
    `writes resumed ${resumedAt - killedAt} ms after the kill; billing run done ${billedAt - resumedAt} ms after that`,
  );
  expect(resumedAt - killedAt).toBeLessThan(RESUME_BOUND_MS);
  expect(billedAt - resumedAt).toBeLessThan(BILLING_BOUND_MS);
  // Meanwhile clients were told to come back, never served a 500 (expectNoServerErrors).
  const during = log.exchanges.filter((e) => e.startedAt >= killedAt && e.endedAt <= resumedAt);
  expect(during.filter((e) => e.status === 503).length).toBeGreaterThan(0);
  expectNoServerErrors(log);
  // No gateway or worker was restarted.
  expect(stage.gateways.every(running)).toBe(true);
  expect(running(stage.workers)).toBe(true);
  // Every purchase, refund and confirmation answered 2xx is on the primary now, budgets are exact (ceilings count
  // exactly what was confirmed), and each confirmed purchase is on exactly one invoice.
  expect(log.exchanges.filter(answered2xx).length).toBeGreaterThan(20);
  await expectInvariants(stage.sql, log, fixtures, stage.gateways[0]?.url as string);
  // The run that was in progress at the kill finished once: one run for its key, done, with its invoices.
  const runs = await stage.sql.query<{ id: string; status: string; invoices: number }>(
    `SELECT r.id, r.status, (SELECT count(*)::int FROM invoices i WHERE i.billing_run_id = r.id) AS invoices
     FROM billing_runs r WHERE r.operator_id = $1 AND r.id = $2`,
    [fixtures.operator.id, runId],
  );
  expect(runs.rows).toEqual([{ id: runId, status: 'done', invoices: expect.any(Number) }]);
  expect(runs.rows[0]?.invoices).toBeGreaterThan(0);
}

describe('kill -9 of the PostgreSQL primary of a pg_auto_failover formation, under load', () => {
  it(
    'When the whole primary node dies (keeper, postmaster and backends, as a host crash), then the standby takes over, writes resume within 30 s with no process restarted, nothing answered 2xx is lost, nothing answered 500, and the billing run finishes once',
    async () => {
      const stage: Partial<Stage> = {};
      try {
        const ready = await startStage('node', stage);
        const outcome = await failoverUnderLoad(ready, (primary) => ready.formation.killNode(primary));
        // The primary changed: node2 is the writable primary, and the reads afterwards come from it.
        await waitUntil(async () => (await ready.formation.primary())?.name === 'node2', 60_000, 'node2 primary');
        const now = await ready.formation.primary();
        expect(now?.name).toBe('node2');
        const { rows } = await ready.sql.query<{ port: number }>('SELECT inet_server_port() AS port');
        expect(rows[0]?.port).toBe(now?.port);
        await expectSurvived(ready, outcome);
      } finally {
        await stopStage(stage);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'When the primary postmaster alone dies (its keeper lives and may restart it in place), then whichever node ends up primary has every 2xx, writes resume within 30 s with no process restarted, nothing answered 500, and the billing run finishes once',
    async () => {
      const stage: Partial<Stage> = {};
      try {
        const ready = await startStage('postmaster', stage);
        let killedPostmaster = 0;
        let watcher: ReturnType<typeof watchLonePrimary> | undefined;
        const outcome = await failoverUnderLoad(ready, async (primary) => {
          killedPostmaster = await ready.formation.killPostmaster(primary);
          watcher = watchLonePrimary(ready.formation.urlOf(primary));
          return [killedPostmaster];
        });
        // Whenever the old primary came back writable without its standby, Kiosque did no work on it.
        const lone = await (watcher as ReturnType<typeof watchLonePrimary>).stop();
        console.log(
          `the old primary looked writable without a standby in ${lone.lonePolls} polls, 100 ms apart, with ${lone.kiosqueSessions} Kiosque sessions on it`,
        );
        expect(lone.kiosqueSessions).toBe(0);
        // The kill landed: either the standby took over, or the old primary runs on a new postmaster.
        await waitUntil(async () => (await ready.formation.primary()) !== null, 60_000, 'a settled primary');
        const now = (await ready.formation.primary()) as FormationNode;
        const servedBy =
          now.name === outcome.oldPrimary.name ? await ready.formation.postmasterPid(now) : `node ${now.name}`;
        console.log(`after the postmaster kill the primary is ${now.name} (${String(servedBy)})`);
        expect(servedBy).not.toBe(killedPostmaster);
        const { rows } = await ready.sql.query<{ port: number }>('SELECT inet_server_port() AS port');
        expect(rows[0]?.port).toBe(now.port);
        await expectSurvived(ready, outcome);
      } finally {
        await stopStage(stage);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
