import { randomUUID } from 'node:crypto';
import { newId } from '../ids.js';
import { roundHalfEvenCentsSql, vatIncludedSql } from './billing-sql.js';
import {
  BILLABLE_STATUSES_SQL,
  inRangeSql,
  payerInRangeSql,
  PURCHASE_VAT_RATE_SQL,
  type ChunkLease,
  type Client,
  type RunHead,
} from './billing-session.js';

/**
 * A chunk's claims: each unbilled purchase of its payers lands on one
 * invoice, and each uncredited refund on the document that credits it.
 */

/** Document ids keep newId's layout (prefix, time, 16 Crockford symbols); hex digits are Crockford symbols. */
export function idStem(prefix: string, now: Date): string {
  return newId(prefix, now.getTime()).slice(0, prefix.length + 1 + 10);
}

/**
 * Claims each purchase by setting its invoice_id where it is still NULL: a
 * concurrent claimer waits on the row lock and then re-checks, so a purchase
 * lands on one invoice only (and a trigger keeps it there). One statement
 * writes what the claim implies: one invoice per payer with its totals, its
 * charge lines (one per publisher and VAT rate, naming their purchases), and
 * the start of the journal's view of each purchase (billed in full, commission
 * on all of it). The invoice's id is its payer's, salted per chunk: every purchase of a
 * payer names the same invoice without a first pass to create it, and ids stay
 * unguessable. A payer is in one chunk's range and a chunk commits once, so
 * its invoice cannot exist already (its unique index would refuse it).
 */
export async function claimPurchases(client: Client, run: RunHead, chunk: ChunkLease, now: Date): Promise<void> {
  const commission = roundHalfEvenCentsSql('(COALESCE(p.commission_rate, 0) * p.amount)');
  await client.query(
    `
    WITH claimed AS (
      UPDATE purchases p
      SET invoice_id = $1::text || upper(substr(md5($2::text || COALESCE(s.holder_id, s.id)), 1, 16)),
          billed_remaining = p.amount, commission_amount = ${commission}
      FROM subscribers s
      WHERE s.id = p.subscriber_id AND s.operator_id = $3::text AND ${payerInRangeSql('$4', '$5')}
        AND p.invoice_id IS NULL AND p.status IN ${BILLABLE_STATUSES_SQL} AND p.confirmed_at <= $6::timestamptz
      RETURNING p.id, p.invoice_id, COALESCE(s.holder_id, s.id) AS payer, p.publisher_id, p.subscription_id,
                p.amount, p.vat_rate, p.commission_amount
    ), rated AS (
      SELECT c.*, ${PURCHASE_VAT_RATE_SQL} AS rate FROM claimed c
      JOIN publishers pub ON pub.id = c.publisher_id LEFT JOIN subscriptions sub ON sub.id = c.subscription_id
    ), priced AS (
      SELECT r.*, ${vatIncludedSql('r.amount', 'r.rate')} AS vat FROM rated r
    ), invoiced AS (
      INSERT INTO invoices (id, billing_run_id, operator_id, subscriber_id, status, type, total, vat_amount, created_at)
      SELECT invoice_id, $7::text, $3::text, payer, 'issued', 'invoice', sum(amount), sum(vat), $8::timestamptz
      FROM priced GROUP BY invoice_id, payer
    ), lines AS (
      INSERT INTO invoice_lines (invoice_id, publisher_id, kind, vat_rate, amount, vat_amount, purchase_ids, refund_ids)
      SELECT invoice_id, publisher_id, 'charge', rate, sum(amount), sum(vat), array_agg(id ORDER BY id), '{}'
      FROM priced GROUP BY invoice_id, publisher_id, rate
    )
    INSERT INTO chunk_sums (doc_id, publisher_id, sales, refunds, vat, commission)
    SELECT invoice_id, publisher_id, sum(amount), 0, sum(vat), sum(commission_amount)
    FROM priced
    GROUP BY invoice_id, publisher_id`,
    [idStem('inv', now), randomUUID(), run.operatorId, chunk.payerFrom, chunk.payerTo, run.through, run.id, now],
  );
}

/**
 * Refunds of the chunk's payers not yet credited, whose purchase is on an
 * invoice the operator has not called unpaid; over refunds `r`, purchases `p`
 * and the invoice `charged`, with the operator in $1, the run's end in $2 and
 * the chunk's payers in [$3, $4).
 */
export const UNCREDITED_REFUNDS_SQL = `
    r.invoice_id IS NULL AND r.created_at <= $2::timestamptz
    AND charged.operator_id = $1::text AND charged.status <> 'unpaid'
    AND ${inRangeSql('charged.subscriber_id', '$3', '$4')}`;

export function uncreditedRefundsValues(run: RunHead, chunk: ChunkLease): unknown[] {
  return [run.operatorId, run.through, chunk.payerFrom, chunk.payerTo];
}

/**
 * An unpaid outcome absorbs the refunds not yet credited on its invoice, so a
 * refund must not also reach a credit note: the chunk holds the invoices it is
 * about to correct (an outcome locks its invoice FOR UPDATE first), and the
 * statements after this one read their status once any outcome has committed.
 */
export async function lockCorrectedInvoices(client: Client, run: RunHead, chunk: ChunkLease): Promise<void> {
  await client.query(
    `
    SELECT charged.id
    FROM refunds r JOIN purchases p ON p.id = r.purchase_id JOIN invoices charged ON charged.id = p.invoice_id
    WHERE ${UNCREDITED_REFUNDS_SQL}
    ORDER BY charged.id
    FOR SHARE OF charged`,
    uncreditedRefundsValues(run, chunk),
  );
}

/** Each refund lands on this run's invoice of its purchase (same run: a negative line) or on the credit note correcting it. */
export async function claimRefunds(client: Client, run: RunHead, chunk: ChunkLease): Promise<void> {
  await client.query(
    `
    WITH claimed AS (
      UPDATE refunds r SET invoice_id = doc.id
      FROM purchases p, invoices charged, invoices doc
      WHERE p.id = r.purchase_id AND charged.id = p.invoice_id AND ${UNCREDITED_REFUNDS_SQL}
        AND doc.billing_run_id = $5::text
        AND ((doc.type = 'invoice' AND doc.id = charged.id)
          OR (doc.type = 'credit_note' AND doc.corrects_invoice_id = charged.id))
      RETURNING r.id, r.invoice_id, r.amount, p.id AS purchase_id, p.publisher_id, p.subscription_id, p.vat_rate
    ), priced AS (
      SELECT c.id, c.invoice_id, c.purchase_id, c.publisher_id, -c.amount AS amount, ${PURCHASE_VAT_RATE_SQL} AS rate,
             ${vatIncludedSql('(-c.amount)', PURCHASE_VAT_RATE_SQL)} AS vat
      FROM claimed c
      JOIN publishers pub ON pub.id = c.publisher_id LEFT JOIN subscriptions sub ON sub.id = c.subscription_id
    ), lines AS (
      INSERT INTO invoice_lines (invoice_id, publisher_id, kind, vat_rate, amount, vat_amount, purchase_ids, refund_ids)
      SELECT invoice_id, publisher_id, 'refund', rate, sum(amount), sum(vat),
             array_agg(purchase_id ORDER BY id), array_agg(id ORDER BY id)
      FROM priced GROUP BY invoice_id, publisher_id, rate
    ), sums AS (
      INSERT INTO chunk_sums (doc_id, publisher_id, sales, refunds, vat, commission)
      SELECT invoice_id, publisher_id, 0, -sum(amount), sum(vat), 0 FROM priced GROUP BY invoice_id, publisher_id
    )
    INSERT INTO chunk_credits (doc_id, purchase_id, refunded)
    SELECT invoice_id, purchase_id, -sum(amount) FROM priced GROUP BY invoice_id, purchase_id`,
    [...uncreditedRefundsValues(run, chunk), run.id],
  );
}
