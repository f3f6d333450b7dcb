import { Worker } from 'bullmq';
import { sweepOverdueDisputes } from '../src/domain/disputes.js';
import { bullConnection, WORKER_RUN_RETRY_DELAY_MS } from '../src/queue/connection.js';
import { keepRecurringJob } from '../src/queue/schedules.js';
import {
  DEADLINE_SWEEP_JOB,
  disputeDeadlineQueue,
  DISPUTE_DEADLINES_QUEUE,
  DEADLINE_SWEEP_SCHEDULER_ID,
  type DeadlineSweepJobData,
} from '../src/queue/disputes.js';
import type { SweepScope } from '../src/store/sweep-scope.js';
import type { RunningWorker, WorkerDeps } from './worker.js';

export interface DisputeDeadlineWorkerOptions {
  /** The clock deadlines are judged by; tests move it instead of waiting 7 days. */
  now?: () => Date;
  /** How often PostgreSQL is swept for open disputes past their deadline. */
  sweepEveryMs?: number;
  /** How often the worker checks that its schedule survived in Redis. */
  schedulerCheckEveryMs?: number;
  /** See SweepScope: tests restrict the sweep to their own publishers' disputes. */
  scope?: SweepScope;
}

/**
 * Closes unanswered disputes as lost once their 7 days are over. Redis only
 * paces the sweep; the overdue disputes are read from PostgreSQL each time, so
 * a flushed Redis delays a closure by at most one check interval and loses
 * none, and a sweep run twice (or by two workers at once) closes each once.
 */
export async function startDisputeDeadlineWorker(
  deps: WorkerDeps,
  options: DisputeDeadlineWorkerOptions = {},
): Promise<RunningWorker> {
  const { config, database, logger } = deps;
  const log = logger.child({ worker: 'dispute-deadlines' });
  const now = options.now ?? (() => new Date());
  const sweepEveryMs = options.sweepEveryMs ?? 60_000;

  const queue = disputeDeadlineQueue(config);
  const stopScheduleChecks = await keepRecurringJob(
    queue,
    {
      schedulerId: DEADLINE_SWEEP_SCHEDULER_ID,
      jobName: DEADLINE_SWEEP_JOB,
      everyMs: sweepEveryMs,
      checkEveryMs: options.schedulerCheckEveryMs ?? 30_000,
    },
    log,
  );

  const worker = new Worker<DeadlineSweepJobData>(
    DISPUTE_DEADLINES_QUEUE,
    async (job) => {
      if (job.name !== DEADLINE_SWEEP_JOB) throw new Error(`Unknown dispute deadline job ${job.name}`);
      const closed = await sweepOverdueDisputes(database, config.publicUrl, now(), undefined, options.scope);
      if (closed > 0) log.info({ closed }, 'closed unanswered disputes as lost');
      return { closed };
    },
    {
      connection: bullConnection(config.redisUrl),
      prefix: config.queuePrefix,
      runRetryDelay: WORKER_RUN_RETRY_DELAY_MS,
      concurrency: 1,
    },
  );
  worker.on('failed', (job, error) => log.error({ err: error, jobId: job?.id }, 'dispute deadline sweep failed'));
  worker.on('error', (error) => log.error({ err: error }, 'dispute deadline worker error'));

  return {
    name: 'dispute-deadlines',
    observed: { worker, queue },
    async close() {
      stopScheduleChecks();
      await worker.close();
      await queue.close();
    },
  };
}
