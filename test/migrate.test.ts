import { createHash } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDatabase, migrate, MIGRATIONS_DIR } from '../src/store/migrate.js';
import { TEST_DATABASE_URL } from './support/env.js';

/** Scratch databases and directories of this file only; every one is dropped after its test. */
const scratchDatabases: string[] = [];
const scratchDirs: string[] = [];
let counter = 0;

function urlFor(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function scratchDatabase(): { name: string; url: string } {
  counter += 1;
  const name = `kiosque_migrate_${process.pid}_${counter}`;
  scratchDatabases.push(name);
  return { name, url: urlFor(name) };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const adminUrl = urlFor('postgres');

async function databaseExists(name: string): Promise<boolean> {
  return withClient(
    adminUrl,
    async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
  );
}

async function emptyDatabaseUrl(): Promise<string> {
  const { url } = scratchDatabase();
  await ensureDatabase(url);
  return url;
}

/** A private copy of the real migrations, to edit or extend without touching the repository. */
async function migrationsCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiosque-migrations-'));
  scratchDirs.push(dir);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(join(dir, name));
  await writeFile(join(dir, name, 'migration.sql'), sql);
}

async function migrationNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  started_at: Date;
  rolled_back_at: Date | null;
  applied_steps_count: number;
  logs: string | null;
}

async function history(url: string): Promise<HistoryRow[]> {
  return withClient(
    url,
    async (c) => (await c.query<HistoryRow>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name')).rows,
  );
}

async function tableExists(url: string, table: string): Promise<boolean> {
  return withClient(
    url,
    async (c) =>
      (await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`public.${table}`])).rows[0]?.t !=
      null,
  );
}

afterEach(async () => {
  const names = scratchDatabases.splice(0);
  await withClient(adminUrl, async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  for (const dir of scratchDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('ensureDatabase', () => {
  it('When the database is missing, then it is created', async () => {
    const { name, url } = scratchDatabase();
    expect(await databaseExists(name)).toBe(false);
    await ensureDatabase(url);
    expect(await databaseExists(name)).toBe(true);
  });

  it('When the database exists, then it is left as it is', async () => {
    const { url } = scratchDatabase();
    await ensureDatabase(url);
    await withClient(url, (c) => c.query('CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)'));
    await ensureDatabase(url);
    const rows = await withClient(url, async (c) => (await c.query('SELECT id FROM kept')).rows);
    expect(rows).toEqual([{ id: 42 }]);
  });

  it('When two processes ensure the same missing database at once, then both succeed and it exists once', async () => {
    const { name, url } = scratchDatabase();
    await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
    expect(await databaseExists(name)).toBe(true);
  });
});

describe('migrate', () => {
  it('When run on an empty database, then every migration is applied in order and recorded as Prisma records it', async () => {
    const url = await emptyDatabaseUrl();
    const expected = await migrationNames(MIGRATIONS_DIR);
    expect(expected.length).toBeGreaterThan(0);
    const applied = await migrate(url);
    expect(applied).toEqual(expected);
    const rows = await history(url);
    expect(rows.map((r) => r.migration_name)).toEqual(expected);
    for (const row of rows) {
      const bytes = await readFile(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.applied_steps_count).toBe(1);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
    }
    expect(await tableExists(url, 'purchases')).toBe(true);
  });

  it('When migrations depend on each other, then they run in name order whatever order the directory lists them', async () => {
    const url = await emptyDatabaseUrl();
    const dir = await mkdtemp(join(tmpdir(), 'kiosque-migrations-'));
    scratchDirs.push(dir);
    // Created in reverse order, so a runner trusting the directory listing would alter before creating.
    await addMigration(dir, '20300103000000_fill', "INSERT INTO widgets (id, label) VALUES (1, 'one');");
    await addMigration(dir, '20300102000000_label', 'ALTER TABLE widgets ADD COLUMN label TEXT;');
    await addMigration(dir, '20300101000000_widgets', 'CREATE TABLE widgets (id INTEGER PRIMARY KEY);');
    expect(await migrate(url, dir)).toEqual(['20300101000000_widgets', '20300102000000_label', '20300103000000_fill']);
    const rows = await withClient(url, async (c) => (await c.query('SELECT id, label FROM widgets')).rows);
    expect(rows).toEqual([{ id: 1, label: 'one' }]);
  });

  it('When run again, then nothing is applied and the history is unchanged', async () => {
    const url = await emptyDatabaseUrl();
    await migrate(url);
    const before = await history(url);
    expect(await migrate(url)).toEqual([]);
    expect(await history(url)).toEqual(before);
  });

  it('When a new migration is added after a first run, then only it is applied', async () => {
    const url = await emptyDatabaseUrl();
    const dir = await migrationsCopy();
    await migrate(url, dir);
    await addMigration(dir, '29990101000000_later', 'CREATE TABLE later_table (id int);');
    expect(await migrate(url, dir)).toEqual(['29990101000000_later']);
    expect(await tableExists(url, 'later_table')).toBe(true);
  });

  it('When two migrate() calls run at once, then each migration is applied exactly once', async () => {
    const url = await emptyDatabaseUrl();
    const expected = await migrationNames(MIGRATIONS_DIR);
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    expect(results.flat().sort()).toEqual(expected);
    const rows = await history(url);
    expect(rows.map((r) => r.migration_name)).toEqual(expected);
  });

  it('When an applied migration is edited afterwards, then migrate refuses with an error naming it and applies nothing more', async () => {
    const url = await emptyDatabaseUrl();
    const dir = await migrationsCopy();
    await migrate(url, dir);
    const [first] = await migrationNames(dir);
    await appendFile(join(dir, first!, 'migration.sql'), '\n-- edited after the fact\n');
    await addMigration(dir, '29990101000000_after_edit', 'CREATE TABLE after_edit (id int);');
    await expect(migrate(url, dir)).rejects.toThrow(new RegExp(`${first}.*modified`));
    expect(await tableExists(url, 'after_edit')).toBe(false);
    expect((await history(url)).map((r) => r.migration_name)).not.toContain('29990101000000_after_edit');
  });

  it('When a migration fails half-way, then its statements are rolled back, it is not recorded, and a fixed version applies later', async () => {
    const url = await emptyDatabaseUrl();
    const dir = await migrationsCopy();
    const expected = await migrationNames(dir);
    const broken = '29990101000000_broken';
    await addMigration(
      dir,
      broken,
      'CREATE TABLE half_done (id int);\nINSERT INTO half_done VALUES (1);\nSELECT 1 / 0;\n',
    );
    await expect(migrate(url, dir)).rejects.toThrow(new RegExp(`${broken} failed`));
    expect(await tableExists(url, 'half_done')).toBe(false);
    const rows = await history(url);
    expect(rows.map((r) => r.migration_name)).toEqual(expected);

    await writeFile(join(dir, broken, 'migration.sql'), 'CREATE TABLE half_done (id int);\n');
    expect(await migrate(url, dir)).toEqual([broken]);
    expect(await tableExists(url, 'half_done')).toBe(true);
  });

  it('When a migration fails, then the advisory lock is released and another migrate can run at once', async () => {
    const url = await emptyDatabaseUrl();
    const dir = await mkdtemp(join(tmpdir(), 'kiosque-migrations-'));
    scratchDirs.push(dir);
    await addMigration(dir, '20300101000000_broken', 'SELECT 1 / 0;');
    await expect(migrate(url, dir)).rejects.toThrow(/failed/);
    const held = await withClient(
      url,
      async (c) =>
        (
          await c.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()",
          )
        ).rows[0]?.n,
    );
    expect(held).toBe(0);
    await writeFile(join(dir, '20300101000000_broken', 'migration.sql'), 'SELECT 1;');
    expect(await migrate(url, dir)).toEqual(['20300101000000_broken']);
  });
});
