import type { Server } from 'node:http';
import { loadConfig, type Config } from './config.js';
import { createApp } from './http/app.js';
import { createGuardedServer } from './http/connection-guard.js';
import { closeAppContext, createAppContext, type AppContext } from './http/context.js';
import { watchRedis } from './lifecycle.js';
import { migrateWhenReachable, redisWhere, warnWithoutAutovacuum } from './start-up.js';
import { createLogger } from './logger.js';
import { observeQueue } from './observability/metrics.js';
import { createBillingQueue, enqueueBillingRun } from './queue/billing.js';
import { billingConnections } from '../workers/billing.js';
import { startWorkersWhenReady } from '../workers/registry.js';
import type { RunningWorker } from '../workers/worker.js';

export interface Gateway {
  ctx: AppContext;
  server: Server;
  /** Settles once the database is migrated and, with RUN_WORKERS, the workers run. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves at once (GET /healthz is alive from the first moment), then brings up
 * what the gateway depends on in the background: /readyz says 503 and names
 * PostgreSQL, Redis or the migrations until they are ready.
 */
export async function startGateway(config: Config = loadConfig()): Promise<Gateway> {
  const logger = createLogger(config.logLevel, [config.adminApiKey]);
  const billingQueue = createBillingQueue(config.redisUrl, config.queuePrefix);
  // Its connection fails with the gateway's own, which watchRedis already reports.
  billingQueue.on('error', () => undefined);
  const unobserveQueue = observeQueue(billingQueue);
  const ctx: AppContext = {
    ...createAppContext(config, config.databasePoolSize + (config.runWorkers ? billingConnections() : 0), logger),
    enqueueBillingRun: (id) => enqueueBillingRun(billingQueue, id),
  };
  const { database, redis } = ctx;
  watchRedis(redis, redisWhere(config), logger);
  let migrationsDone = false;
  const app = createApp(ctx, { migrated: () => migrationsDone });
  const server = createGuardedServer(
    app,
    {
      receiveTimeoutMs: config.requestReceiveTimeoutMs,
      maxPerAddress: config.maxConnectionsPerAddress,
    },
    logger,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const stopping = new AbortController();
  const migrated = migrateWhenReachable(config, logger, stopping.signal).then(() => {
    migrationsDone = true;
    void warnWithoutAutovacuum(database, logger).catch(() => undefined);
  });
  // One process runs everything unless RUN_WORKERS=0 (then `npm run workers` runs them elsewhere).
  const workers: Promise<RunningWorker | null> = config.runWorkers
    ? startWorkersWhenReady({ config, database, logger, redis }, migrated, stopping.signal)
    : migrated.then(() => null);
  const ready = workers.then(
    () => undefined,
    (error: unknown) => {
      if (!stopping.signal.aborted) logger.error({ err: error }, 'start-up failed');
    },
  );

  return {
    ctx,
    server,
    ready,
    async close() {
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await ready;
      await (await workers.catch(() => null))?.close();
      unobserveQueue();
      await billingQueue.close().catch(() => undefined);
      await closeAppContext(ctx);
    },
  };
}
