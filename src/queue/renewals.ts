import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { bullConnection } from './connection.js';

export const RENEWAL_QUEUE = 'renewals';
export const SWEEP_JOB = 'sweep';
export const RENEW_JOB = 'renew';
export const SWEEP_SCHEDULER_ID = 'renewals-sweep';

/** The sweep carries nothing: which subscriptions are due lives in PostgreSQL. */
export type SweepJobData = Record<string, never>;
export interface RenewJobData {
  subscriptionId: string;
}
export type RenewalJobData = SweepJobData | RenewJobData;

export function isRenewJob(data: RenewalJobData): data is RenewJobData {
  return typeof (data as Partial<RenewJobData>).subscriptionId === 'string';
}

export function renewalQueue(config: Config): Queue<RenewalJobData> {
  return new Queue<RenewalJobData>(RENEWAL_QUEUE, {
    connection: bullConnection(config.redisUrl),
    prefix: config.queuePrefix,
  });
}

/**
 * One job id per subscription and attempt time: while a renewal job waits, a
 * later sweep adds no second one. Running twice would be harmless anyway.
 */
export function renewJobId(subscriptionId: string, attemptAt: Date): string {
  return `renew-${subscriptionId}-${attemptAt.getTime()}`;
}
