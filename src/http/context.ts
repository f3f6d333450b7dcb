import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { prismaDatabase, type Database } from '../store/database.js';
import { createDb, TRANSACTION_OPTIONS, type Db } from '../store/db.js';
import { createRedis, type RedisClient } from '../store/redis.js';
import { createPool, type PgPool } from '../store/sql.js';

/** What every route needs, built once at start and passed down explicitly. */
export interface AppContext {
  config: Config;
  /** The store's handle: what routes read through and the domain opens its transactions on. */
  database: Database;
  /** Prisma's client, under `database`: no route uses it, load shedding reads its pool's queue. */
  db: Db;
  /** node-postgres, beside Prisma, for the hot path's prepared statements. */
  pool: PgPool;
  redis: RedisClient;
  logger: Logger;
  /** Called after a billing run row is committed, to hand it to the workers. */
  enqueueBillingRun?: (billingRunId: string) => Promise<void>;
}

/**
 * A gateway's connections: Prisma's pool and node-postgres's, `poolSize`
 * connections each with the config's database deadlines, and a Redis client
 * unless one is given. Whoever builds it closes them.
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
  const db = createDb(config.databaseUrl, poolSize, config.databaseTimeouts);
  return {
    config,
    database: prismaDatabase(db, TRANSACTION_OPTIONS),
    db,
    pool: createPool(config.databaseUrl, poolSize, config.databaseTimeouts),
    redis,
    logger,
  };
}

/** Closes what createAppContext opened. */
export async function closeAppContext(ctx: AppContext): Promise<void> {
  ctx.redis.disconnect();
  await ctx.db.$disconnect();
  await ctx.pool.end();
}
