import type Decimal from 'decimal.js';
import { money } from './records.js';
import { accounts, accountSql, EUR } from '../shared/accounts.js';
import { roundHalfEvenCentsSql } from './billing-sql.js';
import type { Client } from './billing-session.js';
import { onClient, type Sql, type Statement } from './sql.js';

/**
 * Collected before available (docs/money.md). A settlement credits the
 * publisher's payable account with its net; these entries then move the part
 * still waiting for the subscribers' money to `publisher:<id>:pending`, and
 * move it back to payable (what `available` reads) when the operator reports
 * the invoice's outcome. What an outcome charges back waits in
 * `publisher:<id>:held:<operator>` until that operator's next settlement books
 * the chargeback, so that it reduces `available` once, at the outcome.
 *
 * An invoice's part for a publisher is read from the journal: the invoice's
 * own entry (its sales, less its refund lines and its commission), and the
 * outcome's entry (its chargebacks and absorbed refunds, less the commission
 * given back).
 */

const SETTLEMENT_AVAILABILITY = `
  WITH live AS (
    SELECT 1 FROM operators WHERE id = $2::text AND NOT sandbox
  ), open_parts AS (
    SELECT ${accountSql.unsettledPublisher('p.account')} AS publisher_id, -sum(p.amount) AS amount
    FROM invoices i
      JOIN ledger_entries e ON e.key = 'invoice:' || i.id
      JOIN ledger_postings p ON p.entry_id = e.id
    WHERE i.billing_run_id = $1::text AND i.type = 'invoice' AND i.status = 'issued'
      AND p.account LIKE 'unsettled:%' AND p.unit = $4::text
    GROUP BY 1
  ), parts AS (
    SELECT s.publisher_id, COALESCE(o.amount, 0) AS pending,
      (SELECT COALESCE(-sum(h.amount), 0) FROM ledger_postings h
        WHERE h.account = ${accountSql.held('s.publisher_id', '$2::text')} AND h.unit = $4::text) AS held
    FROM settlements s LEFT JOIN open_parts o ON o.publisher_id = s.publisher_id
    WHERE s.billing_run_id = $1::text AND EXISTS (SELECT 1 FROM live)
  ), e AS (
    INSERT INTO ledger_entries (key, kind, operator_id, publisher_id, billing_run_id, created_at)
    SELECT 'availability:' || $1::text || ':' || publisher_id, 'availability', $2::text, publisher_id, $1::text, $3::timestamptz
    FROM parts WHERE pending <> 0 OR held <> 0
    ON CONFLICT (key) DO NOTHING
    RETURNING id, publisher_id
  ), postings (publisher_id, account, amount) AS (
    SELECT publisher_id, ${accountSql.payable('publisher_id')}, pending - held FROM parts
    UNION ALL SELECT publisher_id, ${accountSql.pending('publisher_id')}, -pending FROM parts
    UNION ALL SELECT publisher_id, ${accountSql.held('publisher_id', '$2::text')}, held FROM parts
  )
  INSERT INTO ledger_postings (entry_id, account, unit, amount)
  SELECT e.id, p.account, $4::text, p.amount FROM postings p JOIN e ON e.publisher_id = p.publisher_id
  WHERE p.amount <> 0`;

/**
 * In the settling transaction, after the run's settlement entries: each
 * publisher's part of the run's invoices that have no outcome yet becomes
 * pending, and what its earlier outcomes held back is released, since the
 * settlement now books those chargebacks. The caller holds the operator's
 * billing lock exclusively and the publishers' rows.
 */
export async function settleAvailability(
  client: Client,
  run: { id: string; operatorId: string },
  now: Date,
): Promise<void> {
  await client.query(SETTLEMENT_AVAILABILITY, [run.id, run.operatorId, now, EUR]);
  await netCreditNotes(onClient(client), { billingRunId: run.id }, now);
}

const NET_CREDIT_NOTES: Statement = {
  name: 'availability_net_credit_notes',
  text: `WITH candidates AS (
      SELECT cn.id AS credit_note_id, inv.id AS invoice_id, inv.operator_id, cn.billing_run_id, -cn.total AS credited,
        inv.collected,
        (SELECT COALESCE(sum(p.amount), 0) FROM ledger_entries n JOIN ledger_postings p ON p.entry_id = n.id
          WHERE n.kind = 'credit_netting' AND n.invoice_id = inv.id
            AND p.account = ${accountSql.receivable('inv.operator_id')}) AS netted
      FROM invoices cn JOIN invoices inv ON inv.id = cn.corrects_invoice_id
      WHERE cn.type = 'credit_note' AND inv.status IN ('paid', 'partially_paid')
        AND (cn.corrects_invoice_id = $1::text OR cn.billing_run_id = $2::text)
        AND EXISTS (SELECT 1 FROM ledger_entries d WHERE d.key = 'credit_note:' || cn.id)
        AND NOT EXISTS (SELECT 1 FROM ledger_entries n WHERE n.key = 'netting:' || cn.id)
    ), amounts AS (
      SELECT c.*, GREATEST(0, LEAST(credited, collected - netted
        - (sum(credited) OVER (PARTITION BY invoice_id ORDER BY credit_note_id) - credited))) AS amount
      FROM candidates c
    ), e AS (
      INSERT INTO ledger_entries (key, kind, operator_id, billing_run_id, invoice_id, created_at)
      SELECT 'netting:' || credit_note_id, 'credit_netting', operator_id, billing_run_id, invoice_id, $3::timestamptz
      FROM amounts WHERE amount > 0
      ON CONFLICT (key) DO NOTHING
      RETURNING id, key
    ), postings (key, account, amount) AS (
      SELECT 'netting:' || credit_note_id, ${accountSql.receivable('operator_id')}, amount FROM amounts
      UNION ALL SELECT 'netting:' || credit_note_id, ${accountSql.collected('operator_id')}, -amount FROM amounts
    )
    INSERT INTO ledger_postings (entry_id, account, unit, amount)
    SELECT e.id, p.account, $4::text, p.amount FROM postings p JOIN e ON e.key = p.key WHERE p.amount <> 0`,
};

/**
 * A credit note against an invoice the subscriber paid is money the operator
 * hands back to its subscriber out of what it collected: it nets against what
 * the operator owes Kiosque (its collected account) rather than leaving the
 * receivable negative. At most what the invoice collected is netted; credit
 * notes are netted once each, when both the note and the paid outcome exist.
 */
export async function netCreditNotes(
  sql: Sql,
  scope: { invoiceId?: string; billingRunId?: string },
  now: Date,
): Promise<void> {
  await sql.rows(NET_CREDIT_NOTES, [scope.invoiceId ?? null, scope.billingRunId ?? null, now, EUR]);
}

const INVOICE_PARTS: Statement = {
  name: 'availability_invoice_parts',
  text: `SELECT ${accountSql.unsettledPublisher('p.account')} AS "publisherId",
      (-COALESCE(sum(p.amount) FILTER (WHERE e.key = 'invoice:' || i.id), 0))::text AS pending,
      COALESCE(sum(p.amount) FILTER (WHERE e.key = 'outcome:' || i.id), 0)::text AS "givenBack"
    FROM invoices i
      JOIN billing_runs r ON r.id = i.billing_run_id AND r.status = 'done'
      JOIN operators o ON o.id = i.operator_id AND NOT o.sandbox
      JOIN ledger_entries e ON e.key IN ('invoice:' || i.id, 'outcome:' || i.id)
      JOIN ledger_postings p ON p.entry_id = e.id
    WHERE i.id = $1::text AND i.type = 'invoice' AND p.account LIKE 'unsettled:%' AND p.unit = $2::text
    GROUP BY 1 ORDER BY 1`,
};

export interface InvoicePart {
  publisherId: string;
  /** What the run's settlement made pending for this invoice. */
  pending: Decimal;
  /** What the invoice's outcome charged back, net of the commission given back. */
  givenBack: Decimal;
}

/**
 * Each publisher's part of an invoice whose run has settled it as pending,
 * and what its outcome gave back; empty when the run is not done (its
 * settlement will see the outcome) or the operator is a sandbox.
 */
export async function invoiceParts(sql: Sql, invoiceId: string): Promise<InvoicePart[]> {
  const rows = await sql.rows<{ publisherId: string; pending: string; givenBack: string }>(INVOICE_PARTS, [
    invoiceId,
    EUR,
  ]);
  return rows.map((r) => ({ publisherId: r.publisherId, pending: money(r.pending), givenBack: money(r.givenBack) }));
}

const LOCK_PUBLISHERS: Statement = {
  name: 'availability_lock_publishers',
  text: `SELECT id FROM publishers WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`,
};

/** The rows a payout locks, in id order: a release that lowers `available` waits for payouts reading it. */
export async function lockPublishers(sql: Sql, publisherIds: readonly string[]): Promise<void> {
  await sql.rows(LOCK_PUBLISHERS, [[...publisherIds]]);
}

/**
 * What the publisher's refunds will take back once settled, for refunds the
 * journal does not hold yet: recorded on a billed purchase and credited by no
 * document, or credited by a run still running. The next settlement books the
 * exact figure; until then this is subtracted from `available` (and shown in
 * `pending`), so a refund lowers what can be paid out as soon as it is
 * recorded. An uncredited refund gives back its amount less the commission
 * the purchase then no longer earns (rate × what stays billed, half-even);
 * one an unfinished run has credited, its whole amount. A refund on an invoice
 * called unpaid was absorbed by that outcome's chargeback, and a sandbox
 * operator's money is in no balance. `publisher` is an SQL expression.
 */
export function refundsAwaitingSettlementSql(publisher: string): string {
  const remaining = '(COALESCE(x.billed_remaining, x.amount) - x.uncredited)';
  return `(SELECT COALESCE(sum(w.hold), 0) FROM (
      SELECT x.uncredited - (COALESCE(x.commission_amount, 0)
        - ${roundHalfEvenCentsSql(`(COALESCE(x.commission_rate, 0) * ${remaining})`)}) AS hold
      FROM (
        SELECT p.amount, p.billed_remaining, p.commission_rate, p.commission_amount, sum(r.amount) AS uncredited
        FROM refunds r JOIN purchases p ON p.id = r.purchase_id
          JOIN invoices charged ON charged.id = p.invoice_id JOIN operators o ON o.id = charged.operator_id
        WHERE r.invoice_id IS NULL AND p.publisher_id = ${publisher} AND charged.status <> 'unpaid' AND NOT o.sandbox
        GROUP BY p.id
      ) x
      UNION ALL
      SELECT r.amount FROM billing_runs br JOIN invoices d ON d.billing_run_id = br.id
        JOIN refunds r ON r.invoice_id = d.id JOIN purchases p ON p.id = r.purchase_id
        JOIN operators o ON o.id = br.operator_id
      WHERE br.status = 'running' AND d.type = 'credit_note' AND p.publisher_id = ${publisher} AND NOT o.sandbox
    ) w)`;
}

const PUBLISHER_ACCOUNTS: Statement = {
  name: 'availability_publisher_accounts',
  text: `SELECT
      (a.available - h.hold)::text AS available, (a.pending + h.hold)::text AS pending
    FROM (
      SELECT COALESCE(-sum(amount) FILTER (WHERE account = $1::text), 0) AS available,
        COALESCE(-sum(amount) FILTER (WHERE account = $2::text OR account LIKE $3::text), 0) AS pending
      FROM ledger_postings
      WHERE (account = ANY(ARRAY[$1::text, $2::text]) OR account LIKE $3::text) AND unit = $4::text
    ) a CROSS JOIN (SELECT ${refundsAwaitingSettlementSql('$5::text')} AS hold) h`,
};

/** A publisher's accounts, read on their credit side: what is available, and what waits for an outcome or a settlement. */
export async function publisherAccounts(
  sql: Sql,
  publisherId: string,
): Promise<{ available: Decimal; pending: Decimal }> {
  // Every held account of the publisher, one per operator: the name up to the operator, escaped for LIKE.
  const held = `${accounts.held(publisherId, '').replace(/[\\%_]/g, '\\$&')}%`;
  const [row] = await sql.rows<{ available: string; pending: string }>(PUBLISHER_ACCOUNTS, [
    accounts.payable(publisherId),
    accounts.pending(publisherId),
    held,
    EUR,
    publisherId,
  ]);
  return { available: money(row?.available ?? '0'), pending: money(row?.pending ?? '0') };
}
