import type Decimal from 'decimal.js';
import { accountSql, EUR } from '../shared/accounts.js';
import { refundsAwaitingSettlementSql } from './availability.js';
import { money } from './records.js';
import type { Sql, Statement } from './sql.js';
import type { PayoutRecord } from './payouts.js';

export interface PayoutRunRecord {
  id: string;
  executionDate: string;
  minimum: Decimal;
  count: number;
  total: Decimal;
  createdAt: Date;
}

const LOCK_PAYABLE_PUBLISHERS: Statement = {
  name: 'payout_run_lock_publishers',
  text: `SELECT p.id FROM publishers p JOIN bank_accounts b ON b.publisher_id = p.id
    WHERE p.suspended_at IS NULL ORDER BY p.id FOR UPDATE OF p`,
};

const PAYABLE_PUBLISHERS: Statement = {
  name: 'payout_run_payable_publishers',
  text: `SELECT b.publisher_id AS "publisherId", b.iban, b.holder_name AS "holderName",
      ((SELECT COALESCE(-sum(l.amount), 0) FROM ledger_postings l
        WHERE l.account = ${accountSql.payable('b.publisher_id')} AND l.unit = $2::text)
        - ${refundsAwaitingSettlementSql('b.publisher_id')})::text AS available
    FROM bank_accounts b JOIN publishers p ON p.id = b.publisher_id
    WHERE b.publisher_id = ANY($1::text[]) AND p.suspended_at IS NULL
    ORDER BY b.publisher_id`,
};

export interface PayablePublisher {
  publisherId: string;
  iban: string;
  holderName: string;
  available: Decimal;
}

/**
 * Every publisher a run may pay (not suspended, with a bank account), its row
 * locked as a single payout locks it, and what is available to it read after
 * the locks are granted, in a statement of its own so that it sees what the
 * transactions it waited for committed.
 */
export async function lockPayablePublishers(sql: Sql): Promise<PayablePublisher[]> {
  const locked = await sql.rows<{ id: string }>(LOCK_PAYABLE_PUBLISHERS, []);
  if (locked.length === 0) return [];
  const rows = await sql.rows<Omit<PayablePublisher, 'available'> & { available: string }>(PAYABLE_PUBLISHERS, [
    locked.map((r) => r.id),
    EUR,
  ]);
  return rows.map((r) => ({ ...r, available: money(r.available) }));
}

const INSERT_RUN: Statement = {
  name: 'payout_run_insert',
  text: `INSERT INTO payout_runs (id, execution_date, minimum, count, total, created_at)
    VALUES ($1::text, $2::text, $3::numeric, $4::int, $5::numeric, $6::timestamptz)`,
};

export async function insertPayoutRun(sql: Sql, run: PayoutRunRecord): Promise<void> {
  await sql.rows(INSERT_RUN, [
    run.id,
    run.executionDate,
    run.minimum.toFixed(2),
    run.count,
    run.total.toFixed(2),
    run.createdAt,
  ]);
}

const FIND_RUN: Statement = {
  name: 'payout_run_find',
  text: `SELECT id, execution_date AS "executionDate", minimum::text AS minimum, count, total::text AS total,
      created_at AS "createdAt"
    FROM payout_runs WHERE id = $1::text`,
};

const RUN_PAYOUTS: Statement = {
  name: 'payout_run_payouts',
  text: `SELECT id, publisher_id AS "publisherId", amount::text AS amount, created_at AS "createdAt",
      payout_run_id AS "payoutRunId", creditor_name AS "creditorName", creditor_iban AS "creditorIban"
    FROM payouts WHERE payout_run_id = $1::text ORDER BY publisher_id`,
};

/** A payout run and its payouts, by publisher id; null when there is no such run. */
export async function findPayoutRun(
  sql: Sql,
  id: string,
): Promise<{ run: PayoutRunRecord; payouts: PayoutRecord[] } | null> {
  const [row] = await sql.rows<Omit<PayoutRunRecord, 'minimum' | 'total'> & { minimum: string; total: string }>(
    FIND_RUN,
    [id],
  );
  if (!row) return null;
  const payouts = await sql.rows<Omit<PayoutRecord, 'amount'> & { amount: string }>(RUN_PAYOUTS, [id]);
  return {
    run: { ...row, minimum: money(row.minimum), total: money(row.total) },
    payouts: payouts.map((p) => ({ ...p, amount: money(p.amount) })),
  };
}
