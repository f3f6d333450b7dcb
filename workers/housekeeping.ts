import { Worker } from 'bullmq';
import { keepRecurringJob } from '../src/queue/schedules.js';
import { bullConnection } from '../src/queue/connection.js';
import {
  EXPIRE_PURCHASES_JOB,
  EXPIRE_PURCHASES_SCHEDULER_ID,
  HOUSEKEEPING_QUEUE,
  housekeepingQueue,
  PURGE_IDEMPOTENCY_KEYS_JOB,
  PURGE_IDEMPOTENCY_KEYS_SCHEDULER_ID,
  SWEEP_POINTS_JOB,
  SWEEP_POINTS_SCHEDULER_ID,
  type HousekeepingJobData,
} from '../src/queue/housekeeping.js';
import { expirePendingPurchases, purgeIdempotencyKeys } from '../src/store/housekeeping.js';
import type { SweepScope } from '../src/store/sweep-scope.js';
import { sweepPoints } from '../src/domain/household-points.js';
import type { RunningWorker, WorkerDeps } from './worker.js';

const HOUR_MS = 3_600_000;
/** Rows per statement: short transactions, so a sweep never holds many locks at once. */
const BATCH_SIZE = 1_000;
/** Batches per job; what is left waits for the next tick. */
const MAX_BATCHES_PER_JOB = 50;

export interface HousekeepingWorkerOptions {
  /** The clock expiry and retention are judged by; tests move it instead of waiting. */
  now?: () => Date;
  expireEveryMs?: number;
  purgeEveryMs?: number;
  pointsEveryMs?: number;
  /** How often the worker checks that its schedules survived in Redis. */
  schedulerCheckEveryMs?: number;
  /** See SweepScope: tests restrict the sweeps to their own rows. */
  scope?: SweepScope;
}

async function inBatches(step: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_JOB; batch++) {
    const count = await step();
    total += count;
    if (count < BATCH_SIZE) break;
  }
  return total;
}

/**
 * Writes `expired` on pending purchases past their expiry (every read already
 * says expired; this makes the rows agree), and forgets idempotency keys older
 * than IDEMPOTENCY_KEY_RETENTION_HOURS. Both are single guarded statements
 * over PostgreSQL: a tick run twice, or by two workers at once, changes each
 * row once, and a flushed Redis only delays them. The points sweep makes
 * Kiosque Points available 14 days after they were earned and expires them 12
 * months after that, one household at a time under its lock, every entry keyed.
 */
export async function startHousekeepingWorker(
  deps: WorkerDeps,
  options: HousekeepingWorkerOptions = {},
): Promise<RunningWorker> {
  const { config, database, logger } = deps;
  const log = logger.child({ worker: 'housekeeping' });
  const now = options.now ?? (() => new Date());
  const scope = options.scope ?? {};
  const checkEveryMs = options.schedulerCheckEveryMs ?? 30_000;
  const retentionMs = config.idempotencyKeyRetentionHours * HOUR_MS;

  const queue = housekeepingQueue(config);
  const expiry = {
    schedulerId: EXPIRE_PURCHASES_SCHEDULER_ID,
    jobName: EXPIRE_PURCHASES_JOB,
    everyMs: options.expireEveryMs ?? 60_000,
    checkEveryMs,
  };
  const purge = {
    schedulerId: PURGE_IDEMPOTENCY_KEYS_SCHEDULER_ID,
    jobName: PURGE_IDEMPOTENCY_KEYS_JOB,
    everyMs: options.purgeEveryMs ?? HOUR_MS,
    checkEveryMs,
  };
  const points = {
    schedulerId: SWEEP_POINTS_SCHEDULER_ID,
    jobName: SWEEP_POINTS_JOB,
    everyMs: options.pointsEveryMs ?? 5 * 60_000,
    checkEveryMs,
  };
  const stopChecks = [
    await keepRecurringJob(queue, expiry, log),
    await keepRecurringJob(queue, purge, log),
    await keepRecurringJob(queue, points, log),
  ];

  const worker = new Worker<HousekeepingJobData>(
    HOUSEKEEPING_QUEUE,
    async (job) => {
      if (job.name === EXPIRE_PURCHASES_JOB) {
        const at = now();
        return { expired: await inBatches(() => expirePendingPurchases(database.sql, at, BATCH_SIZE, scope)) };
      }
      if (job.name === PURGE_IDEMPOTENCY_KEYS_JOB) {
        const cutoff = new Date(now().getTime() - retentionMs);
        return { purged: await inBatches(() => purgeIdempotencyKeys(database.sql, cutoff, BATCH_SIZE, scope)) };
      }
      if (job.name === SWEEP_POINTS_JOB) return sweepPoints(database, now(), BATCH_SIZE, scope);
      throw new Error(`Unknown housekeeping job ${job.name}`);
    },
    { connection: bullConnection(config.redisUrl), prefix: config.queuePrefix, concurrency: 1 },
  );
  worker.on('failed', (job, error) => log.error({ err: error, jobId: job?.id }, 'housekeeping job failed'));
  worker.on('error', (error) => log.error({ err: error }, 'housekeeping worker error'));

  return {
    name: 'housekeeping',
    async close() {
      for (const stop of stopChecks) stop();
      await worker.close();
      await queue.close();
    },
  };
}
