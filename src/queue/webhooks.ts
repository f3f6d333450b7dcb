import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { bullConnection } from './connection.js';

export const WEBHOOK_QUEUE = 'webhooks';
export const DISPATCH_JOB = 'dispatch';
export const DISPATCH_SCHEDULER_ID = 'webhooks-dispatch';

/** The dispatch job carries nothing: what is due lives in PostgreSQL's outbox, not in Redis. */
export type DispatchJobData = Record<string, never>;

export function webhookQueue(config: Config): Queue<DispatchJobData> {
  return new Queue<DispatchJobData>(WEBHOOK_QUEUE, {
    connection: bullConnection(config.redisUrl),
    prefix: config.queuePrefix,
  });
}
