import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { bullConnection } from './connection.js';

export const DISPUTE_DEADLINES_QUEUE = 'dispute-deadlines';
export const DEADLINE_SWEEP_JOB = 'sweep';
export const DEADLINE_SWEEP_SCHEDULER_ID = 'dispute-deadlines-sweep';

/** The sweep carries nothing: which disputes are overdue lives in PostgreSQL. */
export type DeadlineSweepJobData = Record<string, never>;

export function disputeDeadlineQueue(config: Pick<Config, 'redisUrl' | 'queuePrefix'>): Queue<DeadlineSweepJobData> {
  return new Queue<DeadlineSweepJobData>(DISPUTE_DEADLINES_QUEUE, {
    connection: bullConnection(config.redisUrl),
    prefix: config.queuePrefix,
  });
}
