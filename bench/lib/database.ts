import pg from 'pg';
import { migrate } from '../../src/store/migrate.js';

export const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/kiosque_bench';

export function databaseUrl(name: string): string {
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops and recreates one of the benchmark's own databases (never anyone else's), then migrates it. */
export async function freshDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  if (!name.startsWith('kiosque_bench'))
    throw new Error(`refusing to drop ${name}: the benchmark only owns kiosque_bench*`);
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  await migrate(url);
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * VACUUM ANALYZE of the tables that hold rows, and of no empty one: analyzed
 * while empty, a table is planned as empty (a sequential scan) by every
 * statement prepared before it is analyzed again, however much it grows, and
 * with autovacuum off, as on these machines, nothing analyzes it again. A new
 * deployment's empty tables have never been analyzed; PostgreSQL plans those
 * as holding at least ten pages, and picks their indexes.
 */
export async function vacuumTablesWithRows(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables
     WHERE n_live_tup + n_dead_tup > 0 ORDER BY relname`,
  );
  if (rows.length) await client.query(`VACUUM ANALYZE ${rows.map((row) => row.name).join(', ')}`);
}
