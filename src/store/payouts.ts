import { money } from './records.js';
import type Decimal from 'decimal.js';
import type { Sql, Statement } from './sql.js';

type PayoutStatus = 'created' | 'paid' | 'returned';

export interface PayoutRecord {
  id: string;
  publisherId: string;
  amount: Decimal;
  createdAt: Date;
  /** Null for a single payout (v1.1); a run's payouts carry the account they were sent to. */
  payoutRunId: string | null;
  creditorName: string | null;
  creditorIban: string | null;
}

const INSERT_PAYOUT: Statement = {
  name: 'payout_insert',
  text: `INSERT INTO payouts (id, publisher_id, amount, created_at, payout_run_id, creditor_name, creditor_iban)
    VALUES ($1::text, $2::text, $3::numeric, $4::timestamptz, $5::text, $6::text, $7::text)`,
};

/** Writes a payout row; its journal entry is the caller's, in the same transaction. */
export async function insertPayout(sql: Sql, payout: PayoutRecord): Promise<void> {
  await sql.rows(INSERT_PAYOUT, [
    payout.id,
    payout.publisherId,
    payout.amount.toFixed(2),
    payout.createdAt,
    payout.payoutRunId,
    payout.creditorName,
    payout.creditorIban,
  ]);
}

const SETTLED_AND_PAID: Statement = {
  name: 'payout_settled_and_paid',
  text: `SELECT (SELECT COALESCE(sum(s.net), 0) FROM settlements s JOIN operators o ON o.id = s.operator_id
             WHERE s.publisher_id = $1::text AND NOT o.sandbox)::text AS settled,
           (SELECT COALESCE(sum(amount), 0) FROM payouts p WHERE publisher_id = $1::text
             AND NOT EXISTS (SELECT 1 FROM payout_transitions t WHERE t.payout_id = p.id AND t.status = 'returned')
           )::text AS "paidOut"`,
};

/** What a publisher's live operators settled it in all, and what it was paid out in all, returned transfers aside. */
export async function settledAndPaidOut(
  sql: Sql,
  publisherId: string,
): Promise<{ settled: Decimal; paidOut: Decimal }> {
  const [row] = await sql.rows<{ settled: string; paidOut: string }>(SETTLED_AND_PAID, [publisherId]);
  return { settled: money(row?.settled ?? '0'), paidOut: money(row?.paidOut ?? '0') };
}

const PAYOUT_COLUMNS = `p.id, p.publisher_id AS "publisherId", p.amount::text AS amount, p.created_at AS "createdAt",
  p.payout_run_id AS "payoutRunId", p.creditor_name AS "creditorName", p.creditor_iban AS "creditorIban",
  CASE WHEN EXISTS (SELECT 1 FROM payout_transitions t WHERE t.payout_id = p.id AND t.status = 'returned') THEN 'returned'
       WHEN EXISTS (SELECT 1 FROM payout_transitions t WHERE t.payout_id = p.id AND t.status = 'paid') THEN 'paid'
       ELSE 'created' END AS status`;

export interface PayoutWithStatus extends PayoutRecord {
  status: PayoutStatus;
}

type PayoutRow = Omit<PayoutWithStatus, 'amount'> & { amount: string };

const toPayout = (row: PayoutRow): PayoutWithStatus => ({ ...row, amount: money(row.amount) });

const PUBLISHER_PAYOUTS: Statement = {
  name: 'payouts_of_publisher',
  text: `SELECT ${PAYOUT_COLUMNS} FROM payouts p
    WHERE p.publisher_id = $1::text AND ($2::text IS NULL OR p.id < $2::text)
    ORDER BY p.id DESC LIMIT $3::int`,
};

/** Up to `take` of a publisher's payouts older than `before`, newest first (payout ids are time-ordered). */
export async function publisherPayouts(
  sql: Sql,
  publisherId: string,
  query: { take: number; before: string | null },
): Promise<PayoutWithStatus[]> {
  return (await sql.rows<PayoutRow>(PUBLISHER_PAYOUTS, [publisherId, query.before, query.take])).map(toPayout);
}

const INSERT_TRANSITION: Statement = {
  name: 'payout_transition_insert',
  text: `INSERT INTO payout_transitions (payout_id, status, bank_statement_id, created_at)
    VALUES ($1::text, $2::text, $3::text, $4::timestamptz) ON CONFLICT DO NOTHING`,
};

export async function insertPayoutTransition(
  sql: Sql,
  transition: { payoutId: string; status: 'paid' | 'returned'; bankStatementId: string; at: Date },
): Promise<void> {
  await sql.rows(INSERT_TRANSITION, [
    transition.payoutId,
    transition.status,
    transition.bankStatementId,
    transition.at,
  ]);
}

const PAYOUTS_FOR_UPDATE: Statement = {
  name: 'payouts_for_update',
  text: `SELECT ${PAYOUT_COLUMNS} FROM payouts p WHERE p.id = ANY($1::text[]) ORDER BY p.id FOR UPDATE OF p`,
};

/** The payouts among `ids` and their status, their rows locked in id order so two statements never move one at once. */
export async function lockPayouts(sql: Sql, ids: readonly string[]): Promise<PayoutWithStatus[]> {
  if (ids.length === 0) return [];
  return (await sql.rows<PayoutRow>(PAYOUTS_FOR_UPDATE, [[...ids]])).map(toPayout);
}
