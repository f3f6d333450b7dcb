import { Worker, type Job } from 'bullmq';
import {
  DEFAULT_BILLING_DRIVE,
  markBillingRunFailed,
  runBilling,
  unfinishedBillingRunIds,
  workBillingRun,
  type BillingDriveOptions,
} from '../src/domain/billing.js';
import { bullConnection, WORKER_RUN_RETRY_DELAY_MS } from '../src/queue/connection.js';
import { BILLING_QUEUE, createBillingQueue, ensureBillingJobs, type BillingJobData } from '../src/queue/billing.js';
import { onRedisReturn } from '../src/queue/reconnect.js';
import { runningRunIds } from '../src/store/billing-runs.js';
import type { BillingLimits } from '../src/store/billing-session.js';
import type { SweepScope } from '../src/store/sweep-scope.js';
import type { RunningWorker, WorkerDeps } from './worker.js';

export interface BillingWorkerSettings {
  /** Billing jobs (runs) this process takes from the queue at once. */
  concurrency: number;
  /** Chunks of one run this process bills at once, each on its own PostgreSQL connection. */
  parallelism: number;
  /** At most this many payers per chunk. */
  chunkPayers: number;
  /** How long a killed worker's job stays claimed in BullMQ; the run itself resumes by the chunk sweep. */
  lockDurationMs: number;
  /** How often PostgreSQL's unfinished runs are re-enqueued, in case Redis lost them. */
  sweepIntervalMs: number;
  /** How often PostgreSQL is swept for running runs with a free chunk or their last step to do. */
  chunkSweepIntervalMs: number;
  /** One statement of a chunk or of the last step, server side. */
  statementTimeoutMs: number;
  /** Waiting for a row lock (a confirmation, a refund, an outcome) inside a chunk, server side. */
  lockTimeoutMs: number;
  /** Which operators' runs the sweeps may touch; every operator's by default. */
  scope?: SweepScope;
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number ≥ ${min}, got "${raw}"`);
  return value;
}

export function billingWorkerSettings(env: NodeJS.ProcessEnv = process.env): BillingWorkerSettings {
  return {
    concurrency: whole(env, 'BILLING_CONCURRENCY', 1, 1),
    parallelism: whole(env, 'BILLING_PARALLELISM', DEFAULT_BILLING_DRIVE.parallelism, 1),
    chunkPayers: whole(env, 'BILLING_CHUNK_PAYERS', DEFAULT_BILLING_DRIVE.chunkPayers, 1),
    lockDurationMs: whole(env, 'BILLING_LOCK_DURATION_MS', 30_000),
    sweepIntervalMs: whole(env, 'BILLING_SWEEP_INTERVAL_MS', 30_000),
    chunkSweepIntervalMs: whole(env, 'BILLING_CHUNK_SWEEP_INTERVAL_MS', 2_000, 1),
    statementTimeoutMs: whole(env, 'BILLING_STATEMENT_TIMEOUT_MS', DEFAULT_BILLING_DRIVE.limits.statementMs, 1),
    lockTimeoutMs: whole(env, 'BILLING_LOCK_TIMEOUT_MS', DEFAULT_BILLING_DRIVE.limits.lockMs, 1),
  };
}

/**
 * The connections billing holds at once at most: `parallelism` chunks of each
 * of its `concurrency` jobs, and as many for the chunk sweep. A process that
 * runs the billing worker opens its one pool this much larger than
 * DATABASE_POOL_SIZE: room for billing at its busiest beside everything else.
 */
export function billingConnections(settings: BillingWorkerSettings = billingWorkerSettings()): number {
  return settings.concurrency * settings.parallelism + settings.parallelism;
}

/**
 * Processes billing runs. A job prepares its run and bills chunks until the
 * run is done; every few seconds the chunk sweep also works any running run
 * with a free chunk, so a run whose worker died is finished by whichever
 * worker is up, whatever BullMQ thinks of the job. The slower sweep puts back
 * on the queue the runs PostgreSQL knows and Redis lost.
 */
export async function startBillingWorker(
  deps: WorkerDeps,
  settings: BillingWorkerSettings = billingWorkerSettings(),
): Promise<RunningWorker> {
  const { config, database, logger } = deps;
  const { sql } = database;
  const log = logger.child({ worker: 'billing' });
  const queue = createBillingQueue(config.redisUrl, config.queuePrefix);
  const limits: BillingLimits = {
    ...DEFAULT_BILLING_DRIVE.limits,
    statementMs: settings.statementTimeoutMs,
    lockMs: settings.lockTimeoutMs,
  };
  const drive: BillingDriveOptions = {
    ...DEFAULT_BILLING_DRIVE,
    limits,
    parallelism: settings.parallelism,
    chunkPayers: settings.chunkPayers,
    onChunk: (chunk) => log.debug(chunk, 'billing chunk done'),
    onChunkError: (error, counted) => log.warn({ err: error, countsAsAttempt: counted }, 'billing chunk failed'),
  };

  // Runs a job of this process is driving: the chunk sweep leaves them to it, so a process bills at most
  // `parallelism` chunks of a run at once.
  const driving = new Set<string>();
  const processJob = async (job: Job<BillingJobData>) => {
    const { billingRunId } = job.data;
    driving.add(billingRunId);
    try {
      const outcome = await runBilling(database, billingRunId, drive);
      if (outcome.status === 'failed') log.error(outcome, 'billing run failed');
      else log.info(outcome, 'billing run finished');
      return outcome;
    } catch (error) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt) await markBillingRunFailed(sql, billingRunId, (error as Error).message);
      throw error;
    } finally {
      driving.delete(billingRunId);
    }
  };

  const worker = new Worker<BillingJobData>(BILLING_QUEUE, processJob, {
    connection: bullConnection(config.redisUrl),
    prefix: config.queuePrefix,
    runRetryDelay: WORKER_RUN_RETRY_DELAY_MS,
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.lockDurationMs,
  });
  worker.on('failed', (job, error) =>
    log.warn({ billingRunId: job?.data.billingRunId, err: error }, 'billing run attempt failed'),
  );
  worker.on('error', (error) => log.error({ err: error }, 'billing worker error'));

  const recoverRuns = async () => {
    const { enqueued, exhausted } = await ensureBillingJobs(queue, await unfinishedBillingRunIds(sql, settings.scope));
    if (enqueued.length) log.info({ enqueued }, 're-enqueued billing runs missing from the queue');
    for (const { billingRunId, reason } of exhausted) {
      await markBillingRunFailed(sql, billingRunId, reason);
      log.error({ billingRunId, reason }, 'billing run failed for good');
    }
  };
  const sweep = () =>
    recoverRuns().catch((error: unknown) => log.error({ err: error }, 'billing recovery sweep failed'));
  await sweep();
  const timer = setInterval(() => void sweep(), settings.sweepIntervalMs);
  timer.unref();
  // A Redis back from a restart has lost the queued runs: put them back at once, not at the next sweep.
  const stopRecovery = await onRedisReturn(queue, recoverRuns, log);

  // One chunk sweep at a time per process; close() waits for the one in flight.
  let chunkSweep: Promise<void> | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;
  const sweepChunks = async () => {
    for (const billingRunId of await runningRunIds(database, settings.scope?.operatorIds)) {
      if (closing) return;
      if (driving.has(billingRunId)) continue;
      if (await workBillingRun(database, billingRunId, drive))
        log.info({ billingRunId }, 'billing run finished by the sweep');
    }
  };
  const chunkTimer = setInterval(() => {
    if (chunkSweep || closing) return;
    chunkSweep = sweepChunks()
      .catch((error: unknown) => log.error({ err: error }, 'billing chunk sweep failed'))
      .finally(() => {
        chunkSweep = undefined;
      });
  }, settings.chunkSweepIntervalMs);
  chunkTimer.unref();

  return {
    name: 'billing',
    observed: { worker, queue },
    // Closing twice (a test closes its worker, then its harness closes every worker) closes once.
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(timer);
        clearInterval(chunkTimer);
        stopRecovery();
        await worker.close();
        await chunkSweep;
        await queue.close();
      })();
      return closed;
    },
  };
}
