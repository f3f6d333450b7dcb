import { readdir } from 'node:fs/promises';
import type { Database } from './database.js';
import { MIGRATIONS_DIR } from './migrate.js';
import type { Statement } from './sql.js';

let shipped: Promise<string[]> | null = null;

/** Migrations this build ships with, read once: they do not change while the process runs. */
function shippedMigrations(): Promise<string[]> {
  shipped ??= readdir(MIGRATIONS_DIR, { withFileTypes: true }).then((entries) =>
    entries.filter((e) => e.isDirectory()).map((e) => e.name),
  );
  return shipped;
}

const APPLIED: Statement = {
  name: 'health_applied_migrations',
  text: `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
};

/** Migrations of this build not yet applied to the database. */
export async function pendingMigrations(database: Database): Promise<string[]> {
  const names = await shippedMigrations();
  const applied = await database.sql.rows<{ migration_name: string }>(APPLIED, []);
  const done = new Set(applied.map((row) => row.migration_name));
  return names.filter((name) => !done.has(name));
}

const PING: Statement = { name: 'health_ping', text: 'SELECT 1' };

export async function pingDatabase(database: Database): Promise<void> {
  await database.sql.rows(PING, []);
}

const AUTOVACUUM: Statement = {
  name: 'health_autovacuum',
  text: `SELECT current_setting('autovacuum') = 'on' AS "on"`,
};

/** Whether PostgreSQL's autovacuum runs: what keeps the hot tables' statistics, and so their plans, current. */
export async function autovacuumRuns(database: Database): Promise<boolean> {
  const [row] = await database.sql.rows<{ on: boolean }>(AUTOVACUUM, []);
  return row?.on ?? false;
}
