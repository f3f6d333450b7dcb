import { Queue, type JobsOptions } from 'bullmq';
import { bullConnection } from './connection.js';

export const BILLING_QUEUE = 'billing-runs';

export interface BillingJobData {
  billingRunId: string;
}

/**
 * The job id is the billing run id: enqueueing a run twice (the gateway after
 * commit, then a recovery sweep) makes one job, never two.
 */
export const BILLING_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 1_000 },
};

export type BillingQueue = Queue<BillingJobData>;

export function createBillingQueue(redisUrl: string, prefix: string): BillingQueue {
  return new Queue<BillingJobData>(BILLING_QUEUE, { connection: bullConnection(redisUrl), prefix });
}

export async function enqueueBillingRun(queue: BillingQueue, billingRunId: string): Promise<void> {
  await queue.add('billing-run', { billingRunId }, { ...BILLING_JOB_OPTIONS, jobId: billingRunId });
}

/**
 * Makes sure the queue holds a live job for each run: a missing job (Redis
 * flushed or restarted) is added again; a finished one whose run PostgreSQL
 * still calls unfinished (its last write lost) is replaced. Returns the runs
 * that were (re)enqueued.
 */
export async function ensureBillingJobs(queue: BillingQueue, billingRunIds: readonly string[]): Promise<string[]> {
  const enqueued: string[] = [];
  for (const id of billingRunIds) {
    const state = await queue.getJobState(id);
    if (state === 'completed' || state === 'failed') await queue.remove(id);
    else if (state !== 'unknown') continue;
    await enqueueBillingRun(queue, id);
    enqueued.push(id);
  }
  return enqueued;
}
