import { Worker, type Job, type Queue } from 'bullmq';
import { dueSubscriptions, renewSubscription, type RenewalOutcome } from '../src/domain/subscriptions.js';
import { bullConnection, WORKER_RUN_RETRY_DELAY_MS } from '../src/queue/connection.js';
import { keepRecurringJob } from '../src/queue/schedules.js';
import {
  SWEEP_SCHEDULER_ID,
  isRenewJob,
  RENEW_JOB,
  RENEWAL_QUEUE,
  renewalQueue,
  renewJobId,
  SWEEP_JOB,
  type RenewalJobData,
  type RenewJobData,
} from '../src/queue/renewals.js';
import type { Database } from '../src/store/database.js';
import type { SweepScope } from '../src/store/sweep-scope.js';
import type { RunningWorker, WorkerDeps } from './worker.js';

export interface RenewalWorkerOptions {
  /** The clock renewals are judged by; tests move it instead of waiting days. */
  now?: () => Date;
  /** How often PostgreSQL is swept for due renewals. */
  sweepEveryMs?: number;
  /** How often the worker checks that its schedule survived in Redis. */
  schedulerCheckEveryMs?: number;
  /** Due subscriptions enqueued per sweep; the next sweep takes the rest. */
  sweepBatchSize?: number;
  concurrency?: number;
  /** See SweepScope: tests restrict the sweep to their own publishers' subscriptions. */
  scope?: SweepScope;
}

/** The renew job: one attempt in one transaction, a no-op unless the subscription is due. */
export function runRenewJob(
  database: Database,
  publicUrl: string,
  data: RenewJobData,
  now: Date,
): Promise<RenewalOutcome> {
  return database.transaction((sql) => renewSubscription(sql, data.subscriptionId, publicUrl, now));
}

/** The sweep: hands each due subscription to a renew job; returns how many were due. */
export async function sweepDueRenewals(
  database: Database,
  queue: Queue<RenewalJobData>,
  now: Date,
  batchSize: number,
  scope: SweepScope = {},
): Promise<number> {
  const due = await dueSubscriptions(database.sql, now, batchSize, scope);
  await queue.addBulk(
    due.map(({ id, nextAttemptAt }) => ({
      name: RENEW_JOB,
      data: { subscriptionId: id },
      opts: {
        jobId: renewJobId(id, nextAttemptAt),
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        // Removed either way so a later sweep can hand it out again: PostgreSQL says what is due.
        removeOnComplete: true,
        removeOnFail: true,
      },
    })),
  );
  return due.length;
}

/** RENEWAL_SWEEP_INTERVAL_MS: how often PostgreSQL is read for due renewals (default one minute). */
export function renewalWorkerOptions(env: NodeJS.ProcessEnv = process.env): RenewalWorkerOptions {
  const raw = env.RENEWAL_SWEEP_INTERVAL_MS;
  if (raw === undefined || raw === '') return {};
  const everyMs = Number(raw);
  if (!Number.isInteger(everyMs) || everyMs <= 0) {
    throw new Error(`RENEWAL_SWEEP_INTERVAL_MS must be a whole number above 0, got "${raw}"`);
  }
  return { sweepEveryMs: everyMs };
}

/**
 * Renews subscriptions at their period end and retries declined ones. BullMQ
 * only paces and spreads the work; what is due is read from PostgreSQL at each
 * sweep, so a flushed Redis or a dead worker delays renewals but loses none,
 * and a renewal job run twice charges once.
 */
export async function startRenewalWorker(deps: WorkerDeps, options: RenewalWorkerOptions = {}): Promise<RunningWorker> {
  const { config, database, logger } = deps;
  const now = options.now ?? (() => new Date());
  const sweepEveryMs = options.sweepEveryMs ?? 60_000;
  const batchSize = options.sweepBatchSize ?? 500;

  const queue = renewalQueue(config);
  const stopScheduleChecks = await keepRecurringJob(
    queue,
    {
      schedulerId: SWEEP_SCHEDULER_ID,
      jobName: SWEEP_JOB,
      everyMs: sweepEveryMs,
      checkEveryMs: options.schedulerCheckEveryMs ?? 30_000,
    },
    logger,
  );

  const worker = new Worker<RenewalJobData>(
    RENEWAL_QUEUE,
    async (job: Job<RenewalJobData>) => {
      if (job.name === SWEEP_JOB)
        return { due: await sweepDueRenewals(database, queue, now(), batchSize, options.scope) };
      if (job.name === RENEW_JOB && isRenewJob(job.data))
        return { outcome: await runRenewJob(database, config.publicUrl, job.data, now()) };
      throw new Error(`Unknown renewal job ${job.name}`);
    },
    {
      connection: bullConnection(config.redisUrl),
      prefix: config.queuePrefix,
      runRetryDelay: WORKER_RUN_RETRY_DELAY_MS,
      concurrency: options.concurrency ?? 4,
    },
  );
  worker.on('failed', (job, error) => logger.error({ err: error, jobId: job?.id }, 'renewal job failed'));
  worker.on('error', (error) => logger.error({ err: error }, 'renewal worker error'));

  return {
    name: 'renewals',
    observed: { worker, queue },
    async close() {
      stopScheduleChecks();
      await worker.close();
      await queue.close();
    },
  };
}
