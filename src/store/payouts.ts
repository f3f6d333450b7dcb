import { money } from './records.js';
import type Decimal from 'decimal.js';
import type { Sql, Statement } from './sql.js';

export interface PayoutRecord {
  id: string;
  publisherId: string;
  amount: Decimal;
  createdAt: Date;
}

const INSERT_PAYOUT: Statement = {
  name: 'payout_insert',
  text: `INSERT INTO payouts (id, publisher_id, amount, created_at)
    VALUES ($1::text, $2::text, $3::numeric, $4::timestamptz)`,
};

/** Writes a payout row; its journal entry is the caller's, in the same transaction. */
export async function insertPayout(sql: Sql, payout: PayoutRecord): Promise<void> {
  await sql.rows(INSERT_PAYOUT, [payout.id, payout.publisherId, payout.amount.toFixed(2), payout.createdAt]);
}

const SETTLED_AND_PAID: Statement = {
  name: 'payout_settled_and_paid',
  text: `SELECT (SELECT COALESCE(sum(s.net), 0) FROM settlements s JOIN operators o ON o.id = s.operator_id
             WHERE s.publisher_id = $1::text AND NOT o.sandbox)::text AS settled,
           (SELECT COALESCE(sum(amount), 0) FROM payouts WHERE publisher_id = $1::text)::text AS "paidOut"`,
};

/** What a publisher's live operators settled it in all, and what it was paid out in all. */
export async function settledAndPaidOut(
  sql: Sql,
  publisherId: string,
): Promise<{ settled: Decimal; paidOut: Decimal }> {
  const [row] = await sql.rows<{ settled: string; paidOut: string }>(SETTLED_AND_PAID, [publisherId]);
  return { settled: money(row?.settled ?? '0'), paidOut: money(row?.paidOut ?? '0') };
}
