import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import { redisReady } from '../src/lifecycle.js';
import { observeQueue, observeWorker } from '../src/observability/metrics.js';
import type { Connection } from '../src/store/database.js';
import type { RedisClient } from '../src/store/redis.js';
import type { RunningWorker, WorkerDeps } from './worker.js';
import { startWebhookWorker } from './webhooks.js';
import { startBillingWorker } from './billing.js';
import { renewalWorkerOptions, startRenewalWorker } from './renewals.js';
import { startDisputeDeadlineWorker } from './dispute-deadlines.js';
import { startHousekeepingWorker } from './housekeeping.js';

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

/** Starts the workers once PostgreSQL is migrated and Redis answers, so an outage at start costs no stack traces. */
export async function startWorkersWhenReady(
  deps: { config: Config; database: Connection; logger: Logger; redis: RedisClient },
  migrated: Promise<void>,
  signal: AbortSignal,
): Promise<RunningWorker> {
  await migrated;
  await redisReady(deps.redis, signal);
  return startWorkers(deps);
}
