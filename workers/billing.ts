import { Worker, type Job } from 'bullmq';
import { markBillingRunFailed, runBilling, unfinishedBillingRunIds } from '../src/domain/billing.js';
import { bullConnection, WORKER_RUN_RETRY_DELAY_MS } from '../src/queue/connection.js';
import { BILLING_QUEUE, createBillingQueue, ensureBillingJobs, type BillingJobData } from '../src/queue/billing.js';
import { onRedisReturn } from '../src/queue/reconnect.js';
import type { SweepScope } from '../src/store/sweep-scope.js';
import type { RunningWorker, WorkerDeps } from './registry.js';

export interface BillingWorkerSettings {
  concurrency: number;
  /** How long a killed worker's job stays claimed before another worker takes it over. */
  lockDurationMs: number;
  /** How often PostgreSQL's unfinished runs are re-enqueued, in case Redis lost them. */
  sweepIntervalMs: number;
  /** Test hook only: see RunBillingOptions.pauseBeforeCommitMs. */
  pauseBeforeCommitMs: number;
  /** Which operators' unfinished runs the recovery sweep may re-enqueue; every operator's by default. */
  scope?: SweepScope;
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
}

export function billingWorkerSettings(env: NodeJS.ProcessEnv = process.env): BillingWorkerSettings {
  return {
    concurrency: whole(env, 'BILLING_CONCURRENCY', 1),
    lockDurationMs: whole(env, 'BILLING_LOCK_DURATION_MS', 30_000),
    sweepIntervalMs: whole(env, 'BILLING_SWEEP_INTERVAL_MS', 30_000),
    pauseBeforeCommitMs: whole(env, 'BILLING_PAUSE_BEFORE_COMMIT_MS', 0),
  };
}

/**
 * Processes billing runs, and sweeps PostgreSQL at start and every
 * sweepIntervalMs so that a run Redis forgot is enqueued again.
 */
export async function startBillingWorker(
  deps: WorkerDeps,
  settings: BillingWorkerSettings = billingWorkerSettings(),
): Promise<RunningWorker> {
  const { config, db, logger } = deps;
  const log = logger.child({ worker: 'billing' });
  const queue = createBillingQueue(config.redisUrl, config.queuePrefix);

  const processJob = async (job: Job<BillingJobData>) => {
    const { billingRunId } = job.data;
    try {
      const outcome = await runBilling(db, billingRunId, {
        pauseBeforeCommitMs: settings.pauseBeforeCommitMs,
        onPause: () => log.info({ billingRunId }, 'billing run paused before commit'),
      });
      log.info(outcome, 'billing run finished');
      return outcome;
    } catch (error) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt) await markBillingRunFailed(db, billingRunId, (error as Error).message);
      throw error;
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
    const { enqueued, exhausted } = await ensureBillingJobs(queue, await unfinishedBillingRunIds(db, settings.scope));
    if (enqueued.length) log.info({ enqueued }, 're-enqueued billing runs missing from the queue');
    for (const { billingRunId, reason } of exhausted) {
      await markBillingRunFailed(db, billingRunId, reason);
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

  return {
    name: 'billing',
    observed: { worker, queue },
    async close() {
      clearInterval(timer);
      stopRecovery();
      await worker.close();
      await queue.close();
    },
  };
}
