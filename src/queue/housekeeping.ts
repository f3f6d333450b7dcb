import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { bullConnection } from './connection.js';

export const HOUSEKEEPING_QUEUE = 'housekeeping';
export const EXPIRE_PURCHASES_JOB = 'expire-purchases';
export const PURGE_IDEMPOTENCY_KEYS_JOB = 'purge-idempotency-keys';
export const EXPIRE_PURCHASES_SCHEDULER_ID = 'housekeeping-expire-purchases';
export const PURGE_IDEMPOTENCY_KEYS_SCHEDULER_ID = 'housekeeping-purge-idempotency-keys';
/** Kiosque Points: pending points become available, available ones expire. */
export const SWEEP_POINTS_JOB = 'sweep-points';
export const SWEEP_POINTS_SCHEDULER_ID = 'housekeeping-sweep-points';

/** Both ticks carry nothing: what is due is read from PostgreSQL. */
export type HousekeepingJobData = Record<string, never>;

export function housekeepingQueue(config: Pick<Config, 'redisUrl' | 'queuePrefix'>): Queue<HousekeepingJobData> {
  return new Queue<HousekeepingJobData>(HOUSEKEEPING_QUEUE, {
    connection: bullConnection(config.redisUrl),
    prefix: config.queuePrefix,
  });
}
