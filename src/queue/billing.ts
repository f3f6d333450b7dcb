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

/**
 * Adding fails at once while Redis is away (no offline queue): the gateway
 * then answers from PostgreSQL alone instead of waiting for Redis, and the
 * run is enqueued by the workers' recovery when Redis is back.
 */
export function createBillingQueue(redisUrl: string, prefix: string): BillingQueue {
  return new Queue<BillingJobData>(BILLING_QUEUE, {
    connection: { ...bullConnection(redisUrl), enableOfflineQueue: false },
    prefix,
  });
}

export async function enqueueBillingRun(queue: BillingQueue, billingRunId: string): Promise<void> {
  await queue.add('billing-run', { billingRunId }, { ...BILLING_JOB_OPTIONS, jobId: billingRunId });
}

export interface BillingJobCheck {
  /** Runs put (back) on the queue. */
  enqueued: string[];
  /** Runs whose job used up its attempts (thrown or stalled): give up on them rather than loop. */
  exhausted: { billingRunId: string; reason: string }[];
}

/** BullMQ's reason for a job whose worker vanished too often: it says nothing about the run. */
const STALLED = /stalled/i;

/**
 * Makes sure the queue holds a live job for each unfinished run: a missing job
 * (Redis flushed or restarted) is added again, and a completed one whose run
 * PostgreSQL still calls unfinished (its last write lost) is replaced. A job
 * that failed by an error has used all its attempts: it is reported as
 * exhausted instead of being retried forever. A job that failed because its
 * workers died ("stalled") is replaced: the run's chunks resume by their
 * PostgreSQL leases, and killing workers is no reason to give up on a run.
 */
export async function ensureBillingJobs(
  queue: BillingQueue,
  billingRunIds: readonly string[],
): Promise<BillingJobCheck> {
  const check: BillingJobCheck = { enqueued: [], exhausted: [] };
  for (const id of billingRunIds) {
    const state = await queue.getJobState(id);
    if (state === 'failed') {
      const reason = (await queue.getJob(id))?.failedReason || 'billing job failed';
      if (!STALLED.test(reason)) {
        check.exhausted.push({ billingRunId: id, reason });
        continue;
      }
    }
    if (state === 'completed' || state === 'failed') await queue.remove(id);
    else if (state !== 'unknown') continue;
    await enqueueBillingRun(queue, id);
    check.enqueued.push(id);
  }
  return check;
}
