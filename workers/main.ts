import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createDb } from '../src/store/db.js';
import { ensureDatabase, migrate } from '../src/store/migrate.js';
import { startWorkers } from './registry.js';

/** `npm run workers`: the workers alone, so that gateways and workers scale apart. */
const config = loadConfig();
const logger = createLogger(config.logLevel);
await ensureDatabase(config.databaseUrl);
await migrate(config.databaseUrl);
const db = createDb(config.databaseUrl, config.databasePoolSize);
const workers = await startWorkers({ config, db, logger });
logger.info('Kiosque workers started');

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down workers: finishing in-flight jobs');
  await workers.close();
  await db.$disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
