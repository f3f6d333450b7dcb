import Decimal from 'decimal.js';
import { EUR } from '../shared/accounts.js';
import type { Sql, Statement } from './sql.js';

export interface Posting {
  account: string;
  amount: Decimal;
}

export interface NewEntry {
  key: string;
  kind: string;
  operatorId?: string | null;
  publisherId?: string | null;
  billingRunId?: string | null;
  invoiceId?: string | null;
  postings: readonly Posting[];
  at?: Date;
}

/** Same-account postings merged and zeros dropped: an entry lists each account once. */
export function mergePostings(postings: readonly Posting[]): Posting[] {
  const byAccount = new Map<string, Decimal>();
  for (const p of postings) byAccount.set(p.account, (byAccount.get(p.account) ?? new Decimal(0)).plus(p.amount));
  return [...byAccount].filter(([, amount]) => !amount.isZero()).map(([account, amount]) => ({ account, amount }));
}

/**
 * Writes one entry and its postings in one statement (the database checks the
 * entry balances at the end of it). Keyed: an entry whose key exists already is
 * not written again, and false says so. Call it inside the transaction of the
 * state change it records.
 */
const POST_ENTRY: Statement = {
  name: 'ledger_post_entry',
  text: `WITH e AS (
      INSERT INTO ledger_entries (key, kind, operator_id, publisher_id, billing_run_id, invoice_id, created_at)
      VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz)
      ON CONFLICT (key) DO NOTHING
      RETURNING id
    ), p AS (
      INSERT INTO ledger_postings (entry_id, account, unit, amount)
      SELECT e.id, x.account, $8::text, x.amount::numeric
      FROM e CROSS JOIN jsonb_to_recordset($9::jsonb) AS x(account text, amount text)
      RETURNING 1
    )
    SELECT count(*)::int AS written FROM p`,
};

export async function postEntry(tx: Sql, entry: NewEntry): Promise<boolean> {
  const postings = mergePostings(entry.postings);
  if (postings.length === 0) return false;
  const json = JSON.stringify(postings.map((p) => ({ account: p.account, amount: p.amount.toFixed(2) })));
  const [row] = await tx.rows<{ written: number }>(POST_ENTRY, [
    entry.key,
    entry.kind,
    entry.operatorId ?? null,
    entry.publisherId ?? null,
    entry.billingRunId ?? null,
    entry.invoiceId ?? null,
    entry.at ?? new Date(),
    EUR,
    json,
  ]);
  return (row?.written ?? 0) > 0;
}

/** An account's postings summed on each side, in its unit. */
export interface AccountTotals {
  account: string;
  unit: string;
  debit: Decimal;
  credit: Decimal;
}

const ACCOUNT_TOTALS: Statement = {
  name: 'ledger_account_totals',
  text: `SELECT account, unit,
      COALESCE(sum(amount) FILTER (WHERE amount > 0), 0)::text AS debit,
      COALESCE(-sum(amount) FILTER (WHERE amount < 0), 0)::text AS credit
    FROM ledger_postings GROUP BY account, unit ORDER BY account, unit`,
};

export async function accountTotals(db: Sql): Promise<AccountTotals[]> {
  const rows = await db.rows<{ account: string; unit: string; debit: string; credit: string }>(ACCOUNT_TOTALS, []);
  return rows.map((r) => ({
    account: r.account,
    unit: r.unit,
    debit: new Decimal(r.debit),
    credit: new Decimal(r.credit),
  }));
}
