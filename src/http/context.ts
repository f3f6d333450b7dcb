import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { observePool } from '../observability/metrics.js';
import { openDatabase, type Connection } from '../store/database.js';
import { createRedis, type RedisClient } from '../store/redis.js';

/** What every route needs, built once at start and passed down explicitly. */
export interface AppContext {
  config: Config;
  /** The process's one database handle: routes read through it and the domain opens its transactions on it. */
  database: Connection;
  redis: RedisClient;
  logger: Logger;
  /** Called after a billing run row is committed, to hand it to the workers. */
  enqueueBillingRun?: (billingRunId: string) => Promise<void>;
}

/**
 * A gateway's connections: one pool of `poolSize` connections with the
 * config's database deadlines, and a Redis client unless one is given.
 * Whoever builds it closes them.
 */
export function createAppContext(
  config: Config,
  poolSize: number,
  logger: Logger,
  redis: RedisClient = createRedis(config.redisUrl, config.redisClusterNodes),
): AppContext {
  // Without an 'error' listener ioredis prints every connection error to stderr. The server's watchRedis
  // tells people when Redis goes and comes back; each error's detail is for debugging only.
  redis.on('error', (error: unknown) => logger.debug({ err: error }, 'Redis client error'));
  const database = openDatabase(config.databaseUrl, poolSize, config.databaseTimeouts, observePool);
  return { config, database, redis, logger };
}

/** Closes what createAppContext opened. */
export async function closeAppContext(ctx: AppContext): Promise<void> {
  ctx.redis.disconnect();
  await ctx.database.close();
}
