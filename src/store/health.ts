import { readdir } from 'node:fs/promises';
import type { Db } from './db.js';
import { MIGRATIONS_DIR } from './migrate.js';

let shipped: Promise<string[]> | null = null;

/** Migrations this build ships with, read once: they do not change while the process runs. */
function shippedMigrations(): Promise<string[]> {
  shipped ??= readdir(MIGRATIONS_DIR, { withFileTypes: true }).then((entries) =>
    entries.filter((e) => e.isDirectory()).map((e) => e.name),
  );
  return shipped;
}

/** Migrations of this build not yet applied to the database. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const names = await shippedMigrations();
  const applied = await db.$queryRaw<{ migration_name: string }[]>`
    SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
  const done = new Set(applied.map((row) => row.migration_name));
  return names.filter((name) => !done.has(name));
}

export async function pingDatabase(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}
