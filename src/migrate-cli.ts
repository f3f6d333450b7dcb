import { loadConfig } from './config.js';
import { ensureDatabase, migrate } from './store/migrate.js';

const { databaseUrl } = loadConfig();
await ensureDatabase(databaseUrl);
const applied = await migrate(databaseUrl);
console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
