import { randomUUID } from 'node:crypto';
import { newId } from '../ids.js';
import { roundHalfEvenCentsSql, vatCreditedUpToSql, vatIncludedSql } from './billing-sql.js';
import {
  BILLABLE_STATUSES_SQL,
  inRangeSql,
  payerInRangeSql,
  purchaseVatRateSql,
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
      SELECT c.*, ${purchaseVatRateSql('c')} AS rate FROM claimed c
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

/**
 * Each refund lands on this run's invoice of its purchase (same run: a
 * negative line) or on the credit note correcting it, and credits the VAT the
 * rule vatCreditedUpTo (domain/vat.ts) gives it: over a purchase's refunds,
 * in the order they were made, the VAT credited so far follows what was
 * refunded so far, in proportion, and is all the VAT its invoice charged once
 * the purchase is wholly refunded. Never more: a refund credits what the
 * cumulated share adds to what earlier ones credited.
 */
export async function claimRefunds(client: Client, run: RunHead, chunk: ChunkLease): Promise<void> {
  const order = (alias: string) => `PARTITION BY ${alias}.purchase_id ORDER BY ${alias}.created_at, ${alias}.id`;
  await client.query(
    `
    WITH candidates AS (
      SELECT r.id, doc.id AS invoice_id, r.amount, r.created_at, p.id AS purchase_id, p.publisher_id,
             p.amount AS purchase_amount, ${purchaseVatRateSql('p')} AS rate
      FROM refunds r
      JOIN purchases p ON p.id = r.purchase_id
      JOIN invoices charged ON charged.id = p.invoice_id
      JOIN invoices doc ON doc.billing_run_id = $5::text
        AND ((doc.type = 'invoice' AND doc.id = charged.id)
          OR (doc.type = 'credit_note' AND doc.corrects_invoice_id = charged.id))
      JOIN publishers pub ON pub.id = p.publisher_id LEFT JOIN subscriptions sub ON sub.id = p.subscription_id
      WHERE ${UNCREDITED_REFUNDS_SQL}
    ), earlier AS (
      SELECT purchase_id, sum(amount) AS refunded, sum(COALESCE(vat_amount, 0)) AS vat
      FROM refunds
      WHERE purchase_id IN (SELECT purchase_id FROM candidates) AND invoice_id IS NOT NULL
      GROUP BY purchase_id
    ), cumulated AS (
      SELECT c.*, COALESCE(e.vat, 0) AS earlier_vat,
             ${vatCreditedUpToSql(vatIncludedSql('c.purchase_amount', 'c.rate'), 'c.purchase_amount', `(COALESCE(e.refunded, 0) + sum(c.amount) OVER (${order('c')}))`)} AS share
      FROM candidates c LEFT JOIN earlier e ON e.purchase_id = c.purchase_id
    ), upto AS (
      -- GREATEST: a refund credited before this rule may have credited more than its share; none credits less than zero.
      SELECT c.*, GREATEST(c.share, c.earlier_vat) AS credited FROM cumulated c
    ), credits AS (
      SELECT u.*, u.credited - COALESCE(lag(u.credited) OVER (${order('u')}), u.earlier_vat) AS vat FROM upto u
    ), claimed AS (
      UPDATE refunds r SET invoice_id = c.invoice_id, vat_amount = c.vat
      FROM credits c
      WHERE r.id = c.id AND r.invoice_id IS NULL
      RETURNING r.id
    ), priced AS (
      SELECT c.id, c.invoice_id, c.purchase_id, c.publisher_id, -c.amount AS amount, c.rate, -c.vat AS vat
      FROM credits c JOIN claimed USING (id)
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
