import type { Logger } from 'pino';
import type { Config } from './config.js';
import { hostOf, retryUntilDone } from './lifecycle.js';
import type { Database } from './store/database.js';
import { autovacuumRuns } from './store/health.js';
import { ensureDatabase, migrate } from './store/migrate.js';

/*
 * What a gateway and a worker process both do before they work, kept apart
 * from the HTTP server so that a worker process never loads the app.
 */

/** Where Redis is, for log lines: the URL's host, or the cluster's seed nodes. */
export function redisWhere(config: Config): string {
  return config.redisClusterNodes.length ? `cluster ${config.redisClusterNodes.join(',')}` : hostOf(config.redisUrl);
}

/** Creates the database when missing and applies migrations, retrying with backoff while PostgreSQL is away. */
export function migrateWhenReachable(config: Config, logger: Logger, signal: AbortSignal): Promise<void> {
  return retryUntilDone(
    'PostgreSQL',
    hostOf(config.databaseUrl),
    async () => {
      await ensureDatabase(config.databaseUrl);
      const applied = await migrate(config.databaseUrl);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    },
    { logger, signal },
  );
}

export const AUTOVACUUM_OFF_WARNING =
  'PostgreSQL runs without autovacuum: nothing re-analyzes tables that grow, and a statement planned while a ' +
  'table was analyzed as empty (a confirmation reading subscriber_spending) scans it whole on every call; ' +
  'turn autovacuum on, or run VACUUM ANALYZE regularly (SCALING.md)';

/**
 * Says so once when autovacuum is off. Measured on such a server: a table
 * analyzed while empty made every confirmation scan subscriber_spending, and
 * PostgreSQL's CPU per purchase rose from 1.8 to 4.1 ms in 50 s of load.
 */
export async function warnWithoutAutovacuum(database: Database, logger: Logger): Promise<void> {
  if (!(await autovacuumRuns(database))) logger.warn(AUTOVACUUM_OFF_WARNING);
}
