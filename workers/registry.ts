import type { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import { observeQueue, observeWorker } from '../src/observability/metrics.js';
import type { Db } from '../src/store/db.js';
import { startWebhookWorker } from './webhooks.js';
import { startBillingWorker } from './billing.js';
import { renewalWorkerOptions, startRenewalWorker } from './renewals.js';
import { startDisputeDeadlineWorker } from './dispute-deadlines.js';
import { startHousekeepingWorker } from './housekeeping.js';

/** What every worker gets: PostgreSQL (the record) and the Redis settings for BullMQ. */
export interface WorkerDeps {
  config: Config;
  db: Db;
  logger: Logger;
}

export interface RunningWorker {
  name: string;
  /** What /metrics reports on: job durations and failures from the worker, depths from the queue. */
  observed?: { worker: Worker; queue: Queue };
  /** Finishes in-flight jobs (or hands them back to the queue) and disconnects. */
  close(): Promise<void>;
}

export type WorkerStarter = (deps: WorkerDeps) => Promise<RunningWorker>;

/** Every background worker of Kiosque; one line per worker module. */
export const WORKER_STARTERS: WorkerStarter[] = [
  (deps) => startWebhookWorker(deps),
  (deps) => startBillingWorker(deps),
  (deps) => startRenewalWorker(deps, renewalWorkerOptions()),
  (deps) => startDisputeDeadlineWorker(deps),
  (deps) => startHousekeepingWorker(deps),
];

export async function startWorkers(deps: WorkerDeps): Promise<RunningWorker> {
  const running = await Promise.all(WORKER_STARTERS.map((start) => start(deps)));
  const unobserve = running.map(({ observed }) => {
    if (!observed) return () => undefined;
    observeWorker(observed.worker);
    return observeQueue(observed.queue);
  });
  return {
    name: 'all',
    async close() {
      for (const stop of unobserve) stop();
      await Promise.all(running.map((w) => w.close()));
    },
  };
}
