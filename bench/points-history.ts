import pg from 'pg';
import { pointsAccounts } from '../src/shared/accounts.js';
import { lockHousehold } from '../src/store/points.js';
import { householdJournalBalances } from '../test/support/journal.js';
import { inTransaction } from '../src/store/sql.js';
import { databaseUrl, freshDatabase, withClient } from './lib/database.js';
import { summarize } from './lib/stats.js';

/**
 * What a confirmation paying with points spends under its household's lock,
 * as the household's history grows: the lock statement that also returns the
 * balances kept on the household's row (today), against the same lock followed
 * by the sum over the household's postings that spends made before migration
 * 20261130120000. Both run in one process, one after the other, on the same
 * database, so their ratio holds on a loaded machine.
 *
 *   npx tsx bench/points-history.ts [iterations=300]
 */
const iterations = Number(process.argv[2] ?? 300);
const HISTORIES = [10, 1_000, 10_000, 50_000];
/** Lots written per statement: every posting moves the household's row, so one statement per lot range keeps each transaction's chain of row versions short. */
const LOTS_PER_STATEMENT = 1_000;
const url = databaseUrl(`kiosque_bench_points${process.env.BENCH_DATABASE_SUFFIX ?? ''}`);

await freshDatabase(url);
await withClient(url, async (client) => {
  await client.query(`INSERT INTO operators (id, name, brand, api_key_hash, assertion_secret, limit_per_purchase,
      limit_weekly, limit_monthly) VALUES ('op_pts', 'Points bench', 'PointsNet', 'h', 's', 50, 300, 300)`);
  for (const entries of HISTORIES) {
    const holder = `sub_pts_${entries}`;
    await client.query(
      `INSERT INTO subscribers (id, operator_id, external_ref, updated_at) VALUES ($1, 'op_pts', $1, now())`,
      [holder],
    );
    await client.query(`INSERT INTO points_households (holder_id, operator_id) VALUES ($1, 'op_pts')`, [holder]);
    // Earned and matured `entries` times: each lot is two entries of two postings.
    for (let first = 1; first <= entries; first += LOTS_PER_STATEMENT) {
      const last = Math.min(entries, first + LOTS_PER_STATEMENT - 1);
      for (const [kind, from, to] of [
        ['earn', pointsAccounts.issued('op_pts'), pointsAccounts.pending(holder)],
        ['mature', pointsAccounts.pending(holder), pointsAccounts.available(holder)],
      ] as const) {
        await client.query(
          `WITH e AS (
           INSERT INTO ledger_entries (key, kind, operator_id, created_at)
           SELECT 'points-${kind}:' || $1::text || ':' || g, 'points_${kind}', 'op_pts', now()
           FROM generate_series($5::int, $2::int) AS g RETURNING id
         )
         INSERT INTO ledger_postings (entry_id, account, unit, amount)
         SELECT e.id, a.account, 'PTS', a.amount FROM e CROSS JOIN (VALUES ($3::text, 1), ($4::text, -1)) AS a(account, amount)`,
          [holder, last, from, to, first],
        );
      }
    }
  }
  await client.query('ANALYZE');
});

const pool = new pg.Pool({ connectionString: url, max: 1 });
const rows: Record<string, string | number>[] = [];
for (const entries of HISTORIES) {
  const holder = `sub_pts_${entries}`;
  const kept: number[] = [];
  const summed: number[] = [];
  for (let i = 0; i < iterations; i++) {
    await inTransaction(pool, async (sql) => {
      const start = process.hrtime.bigint();
      const locked = await lockHousehold(sql, holder);
      kept.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (locked?.balances.available !== entries) throw new Error(`kept balance ${locked?.balances.available}`);
    });
    await inTransaction(pool, async (sql) => {
      const start = process.hrtime.bigint();
      await lockHousehold(sql, holder);
      const balances = await householdJournalBalances(sql, holder);
      summed.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (balances.available !== entries) throw new Error(`journal balance ${balances.available}`);
    });
  }
  const k = summarize(kept);
  const s = summarize(summed);
  rows.push({
    lots: entries,
    'lock + kept balances p50 ms': k.p50Ms,
    'lock + journal sum p50 ms': s.p50Ms,
    'sum / kept (p50)': (s.p50Ms / k.p50Ms).toFixed(1),
  });
  process.stderr.write(`points history: ${entries} lots measured\n`);
}
await pool.end();
console.table(rows);
