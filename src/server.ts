import type { Server } from 'node:http';
import { loadConfig, type Config } from './config.js';
import { createApp } from './http/app.js';
import type { AppContext } from './http/context.js';
import { createLogger } from './logger.js';
import { createDb } from './store/db.js';
import { createPool } from './store/sql.js';
import { ensureDatabase, migrate } from './store/migrate.js';
import { createRedis } from './store/redis.js';
import { createBillingQueue, enqueueBillingRun } from './queue/billing.js';
import { startWorkers, type RunningWorker } from '../workers/registry.js';

export interface Gateway {
  ctx: AppContext;
  server: Server;
  close(): Promise<void>;
}

/** Creates the database if needed, applies migrations, then serves. */
export async function startGateway(config: Config = loadConfig()): Promise<Gateway> {
  const logger = createLogger(config.logLevel);
  await ensureDatabase(config.databaseUrl);
  const applied = await migrate(config.databaseUrl);
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const db = createDb(config.databaseUrl, config.databasePoolSize);
  const pool = createPool(config.databaseUrl, config.databasePoolSize);
  const redis = createRedis(config.redisUrl);
  const billingQueue = createBillingQueue(config.redisUrl, config.queuePrefix);
  const ctx: AppContext = { config, db, pool, redis, logger, enqueueBillingRun: (id) => enqueueBillingRun(billingQueue, id) };
  // One process runs everything unless RUN_WORKERS=0 (then `npm run workers` runs them elsewhere).
  const workers: RunningWorker | null = config.runWorkers ? await startWorkers({ config, db, logger }) : null;
  const app = createApp(ctx);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(config.port, () => resolve(s));
  });
  server.keepAliveTimeout = 65_000;
  return {
    ctx,
    server,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await workers?.close();
      await billingQueue.close();
      redis.disconnect();
      await db.$disconnect();
      await pool.end();
    },
  };
}
