import type { Logger } from 'pino';
import type { Config } from './config.js';
import { hostOf, retryUntilDone } from './lifecycle.js';
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
