import type { RedisClient } from '../store/redis.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../store/database.js';
import type { Db } from '../store/db.js';
import type { PgPool } from '../store/sql.js';

/** What every route needs, built once at start and passed down explicitly. */
export interface AppContext {
  config: Config;
  /** The store's handle: what routes read through and the domain opens its transactions on. */
  database: Database;
  /** Prisma itself, for the billing routes only, whose domain has not moved behind the store yet (issue 8). */
  db: Db;
  /** node-postgres, beside Prisma, for the hot path's prepared statements. */
  pool: PgPool;
  redis: RedisClient;
  logger: Logger;
  /** Called after a billing run row is committed, to hand it to the workers. */
  enqueueBillingRun?: (billingRunId: string) => Promise<void>;
}
