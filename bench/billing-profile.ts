import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import type * as Billing from '../src/domain/billing.js';
import type * as Db from '../src/store/db.js';
import type * as Migrate from '../src/store/migrate.js';
import type * as SqlModule from '../src/store/sql.js';
import { databaseUrl, withClient } from './lib/database.js';
import { provisionWorld } from './lib/fixtures.js';
import { generatePurchases } from './parts/billing.js';

/**
 * One billing run called in-process (`runBilling`, no queue, no HTTP) on a
 * fresh database of generated purchases, with the time spent in each
 * statement the run sent and the CPU seconds of its PostgreSQL backends (read
 * from /proc/<pid>/stat: on a loaded host they move less than wall time).
 * `CODE_ROOT=/path/to/other/checkout` runs another version of the code and its
 * migrations with the same driver, so two versions compare back to back.
 *
 *   npx tsx bench/billing-profile.ts [purchases=200000] [subscribers=20000] [parallelism=2]
 */
const purchases = Number(process.argv[2] ?? 200_000);
const subscribers = Number(process.argv[3] ?? 20_000);
const parallelism = Number(process.argv[4] ?? 2);
const root = resolve(process.env.CODE_ROOT ?? process.cwd());
const name = `kiosque_bench_billing_profile${process.env.BENCH_DATABASE_SUFFIX ?? ''}`;
const url = databaseUrl(name);
const load = <T>(path: string) => import(pathToFileURL(resolve(root, path)).href) as Promise<T>;
const { migrate } = await load<typeof Migrate>('src/store/migrate.ts');
const { createPool } = await load<typeof Db>('src/store/db.ts');
const { onPool } = await load<typeof SqlModule>('src/store/sql.ts');
const { runBilling, DEFAULT_BILLING_DRIVE } = await load<typeof Billing>('src/domain/billing.ts');

await withClient(databaseUrl('postgres'), async (admin) => {
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
});
await migrate(url, `${resolve(root, 'prisma/migrations')}/`);
await withClient(url, async (client) => {
  const world = await provisionWorld(client, subscribers);
  await generatePurchases(client, 1, purchases, world.subscribers);
  await client.query('VACUUM ANALYZE');
  await client.query(
    `INSERT INTO billing_runs (id, operator_id, through, status, created_at)
     VALUES ('brun_profile', $1, now(), 'queued', now())`,
    [world.operator.id],
  );
});

const pool = createPool(url, parallelism + 1);
const statements = new Map<string, { ms: number; calls: number }>();
const backends: number[] = [];
pool.on('connect', (client: pg.PoolClient) => {
  void client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then((r) => backends.push(r.rows[0]?.pid ?? 0));
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(client, {
    query: async (...args: unknown[]) => {
      const first = args[0] as string | { text: string };
      const key = (typeof first === 'string' ? first : first.text).replace(/\s+/g, ' ').trim().slice(0, 100);
      const started = performance.now();
      try {
        return await query(...args);
      } finally {
        const seen = statements.get(key) ?? { ms: 0, calls: 0 };
        seen.ms += performance.now() - started;
        seen.calls += 1;
        statements.set(key, seen);
      }
    },
  });
});

/** A backend that already ended (an idle connection closed) counts nothing: the figure is then a lower bound. */
function cpuSeconds(): number {
  let total = 0;
  for (const pid of backends) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      continue;
    }
  }
  return total;
}

const started = performance.now();
// Billing takes the process's database handle (its pool and single statements); an older CODE_ROOT took the
// pool itself, so the pool doubles as the handle and either version runs.
const database = Object.assign(pool, { pool, sql: onPool(pool) });
const outcome = await runBilling(database, 'brun_profile', { ...DEFAULT_BILLING_DRIVE, parallelism });
const seconds = (performance.now() - started) / 1000;
const cpu = cpuSeconds();
await pool.end();
console.log(
  `${root}: ${purchases} purchases, ${subscribers} subscribers, parallelism ${parallelism}: ${outcome.status}, ` +
    `${outcome.invoiceCount} invoices, total ${outcome.total}, ${seconds.toFixed(2)} s, ` +
    `PostgreSQL backends ${cpu.toFixed(2)} CPU s, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`,
);
for (const [text, { ms, calls }] of [...statements].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12))
  console.log(`${(ms / 1000).toFixed(2).padStart(7)} s ${String(calls).padStart(5)}x  ${text}`);
