import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { onRedisReturn } from './reconnect.js';

/**
 * Keeps one recurring, data-less job scheduled every `everyMs`. The scheduler is
 * created only when it is missing (first start, or Redis flushed), so calling
 * this again and again, from every worker process, never shifts or doubles the
 * ticks. Returns whether it had to be created.
 */
export async function ensureRecurringJob(
  queue: Queue,
  schedulerId: string,
  jobName: string,
  everyMs: number,
): Promise<boolean> {
  if (await queue.getJobScheduler(schedulerId)) return false;
  // The tick carries nothing: what is due is always read from PostgreSQL.
  await queue.upsertJobScheduler(
    schedulerId,
    { every: everyMs },
    { name: jobName, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
  );
  return true;
}

export interface RecurringJob {
  schedulerId: string;
  jobName: string;
  everyMs: number;
  /** How often to check the schedule is still in Redis, which may be flushed at any moment. */
  checkEveryMs: number;
}

/**
 * Schedules the job now, again as soon as Redis comes back after a loss (it
 * may have restarted empty), and re-checks it periodically in case Redis was
 * flushed without dropping the connection. Returns the function that stops it.
 */
export async function keepRecurringJob(queue: Queue, job: RecurringJob, logger: Logger): Promise<() => void> {
  const ensure = () => ensureRecurringJob(queue, job.schedulerId, job.jobName, job.everyMs);
  await ensure();
  const stopWatching = await onRedisReturn(queue, ensure, logger);
  const timer = setInterval(() => {
    ensure()
      .then(
        (recreated) =>
          recreated && logger.warn({ schedulerId: job.schedulerId }, 'schedule was missing from Redis and is back'),
      )
      .catch((error: unknown) =>
        logger.warn({ err: error, schedulerId: job.schedulerId }, 'could not check the schedule'),
      );
  }, job.checkEveryMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopWatching();
  };
}
