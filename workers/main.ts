import type { Server } from 'node:http';
import express from 'express';
import { loadConfig } from '../src/config.js';
import { shortReason, watchRedis } from '../src/lifecycle.js';
import { createLogger } from '../src/logger.js';
import { healthRoutes } from '../src/observability/health.js';
import { useRedisCluster } from '../src/queue/connection.js';
import { migrateWhenReachable, redisWhere } from '../src/start-up.js';
import { billingConnections } from './billing.js';
import { startWorkersWhenReady } from './registry.js';
import { observePool } from '../src/observability/metrics.js';
import { openDatabase } from '../src/store/database.js';
import { createRedis } from '../src/store/redis.js';

/** `npm run workers`: the workers alone, so that gateways and workers scale apart. */
let config;
let poolSize;
try {
  config = loadConfig();
  poolSize = config.databasePoolSize + billingConnections();
} catch (error) {
  console.error(`Kiosque workers cannot start: ${shortReason(error)}`);
  process.exit(1);
}
if (config.redisClusterNodes.length) useRedisCluster(config.redisClusterNodes, config.redisUrl);
const logger = createLogger(config.logLevel, [config.adminApiKey]);
const database = openDatabase(config.databaseUrl, poolSize, config.databaseTimeouts, observePool);
// Not used by the workers themselves (BullMQ has its own connections): it says when Redis is there, for start-up and /readyz.
const redis = createRedis(config.redisUrl, config.redisClusterNodes);
watchRedis(redis, redisWhere(config), logger);

let metricsServer: Server | null = null;
if (config.workerMetricsPort !== null) {
  const port = config.workerMetricsPort;
  metricsServer = express()
    .use(healthRoutes({ database, redis }))
    .listen(port, () => logger.info({ port }, 'worker metrics listening'));
}

const stopping = new AbortController();
const started = startWorkersWhenReady(
  { config, database, logger, redis },
  migrateWhenReachable(config, logger, stopping.signal),
  stopping.signal,
);
started.then(
  () => logger.info('Kiosque workers started'),
  (error: unknown) => {
    if (!stopping.signal.aborted) logger.error({ err: error }, 'workers failed to start');
  },
);

let stopped = false;
async function stop(signal: string) {
  if (stopped) return;
  stopped = true;
  logger.info({ signal }, 'shutting down workers: finishing in-flight jobs');
  stopping.abort();
  await (await started.catch(() => null))?.close();
  metricsServer?.close();
  redis.disconnect();
  await database.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
