import { Worker } from 'bullmq';
import { dispatchDueWebhooks, DEFAULT_BATCH_SIZE, type DispatchOptions } from '../src/domain/webhook-delivery.js';
import { bullConnection, WORKER_RUN_RETRY_DELAY_MS } from '../src/queue/connection.js';
import { keepRecurringJob } from '../src/queue/schedules.js';
import {
  DISPATCH_JOB,
  DISPATCH_SCHEDULER_ID,
  WEBHOOK_QUEUE,
  webhookQueue,
  type DispatchJobData,
} from '../src/queue/webhooks.js';
import type { RunningWorker, WorkerDeps } from './worker.js';

export interface WebhookWorkerOptions extends Omit<DispatchOptions, 'allowPrivateNetworks'> {
  /** How often due events are looked for. */
  pollEveryMs?: number;
  /** How often the worker checks that its schedule survived in Redis. */
  schedulerCheckEveryMs?: number;
  /** Dispatch jobs run at once in this process; each sends a whole batch concurrently. */
  concurrency?: number;
}

/** Full batches in a row handled by one job before leaving the rest to the next tick. */
const MAX_BATCHES_PER_JOB = 20;

/**
 * Delivers the webhook outbox. BullMQ only paces the work (a dispatch tick
 * every pollEveryMs, shared by every worker process); which events are due,
 * and who is sending which, is decided in PostgreSQL, so a flushed Redis or a
 * killed worker delays deliveries but never loses one.
 */
export async function startWebhookWorker(deps: WorkerDeps, options: WebhookWorkerOptions = {}): Promise<RunningWorker> {
  const { config, database, logger } = deps;
  const { sql } = database;
  const pollEveryMs = options.pollEveryMs ?? 1000;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const dispatch: DispatchOptions = { ...options, batchSize, allowPrivateNetworks: config.webhookAllowPrivateNetworks };

  const queue = webhookQueue(config);
  const stopScheduleChecks = await keepRecurringJob(
    queue,
    {
      schedulerId: DISPATCH_SCHEDULER_ID,
      jobName: DISPATCH_JOB,
      everyMs: pollEveryMs,
      checkEveryMs: options.schedulerCheckEveryMs ?? 30_000,
    },
    logger,
  );

  // Set on shutdown so a job stops between batches: what it has not claimed stays due for the next worker.
  let closing = false;
  const worker = new Worker<DispatchJobData>(
    WEBHOOK_QUEUE,
    async () => {
      let attempted = 0;
      for (let batch = 0; batch < MAX_BATCHES_PER_JOB && !closing; batch++) {
        const count = await dispatchDueWebhooks(sql, dispatch);
        attempted += count;
        if (count < batchSize) break;
      }
      return { attempted };
    },
    {
      connection: bullConnection(config.redisUrl),
      prefix: config.queuePrefix,
      runRetryDelay: WORKER_RUN_RETRY_DELAY_MS,
      concurrency: options.concurrency ?? 2,
    },
  );
  worker.on('failed', (job, error) => logger.error({ err: error, jobId: job?.id }, 'webhook dispatch failed'));
  worker.on('error', (error) => logger.error({ err: error }, 'webhook worker error'));

  return {
    name: 'webhooks',
    observed: { worker, queue },
    async close() {
      closing = true;
      stopScheduleChecks();
      await worker.close();
      await queue.close();
    },
  };
}
