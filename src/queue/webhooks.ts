import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { bullConnection } from './connection.js';

export const WEBHOOK_QUEUE = 'webhooks';
export const DISPATCH_JOB = 'dispatch';
export const DISPATCH_SCHEDULER_ID = 'webhooks-dispatch';

/** The dispatch job carries nothing: what is due lives in PostgreSQL's outbox, not in Redis. */
export type DispatchJobData = Record<string, never>;

export function webhookQueue(config: Config): Queue<DispatchJobData> {
  return new Queue<DispatchJobData>(WEBHOOK_QUEUE, { connection: bullConnection(config.redisUrl), prefix: config.queuePrefix });
}

/**
 * Makes sure a dispatch job is scheduled every `everyMs`. Only creates the
 * scheduler when it is missing (first start, or Redis flushed), so calling it
 * again and again never shifts or doubles the ticks.
 */
export async function ensureDispatchScheduler(queue: Queue<DispatchJobData>, everyMs: number): Promise<boolean> {
  if (await queue.getJobScheduler(DISPATCH_SCHEDULER_ID)) return false;
  await queue.upsertJobScheduler(
    DISPATCH_SCHEDULER_ID,
    { every: everyMs },
    { name: DISPATCH_JOB, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
  );
  return true;
}
