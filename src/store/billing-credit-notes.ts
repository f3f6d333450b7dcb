import { roundHalfEvenCentsSql } from './billing-sql.js';
import { idStem, UNCREDITED_REFUNDS_SQL, uncreditedRefundsValues } from './billing-claims.js';
import type { ChunkLease, Client, RunHead } from './billing-session.js';

/**
 * Refunds not yet credited whose purchase was billed by an earlier run are
 * credited on a credit note that names that invoice: one per corrected invoice
 * in this run. A charge the subscriber never paid was charged back for what was
 * not refunded, and the refunds known then were posted with it; crediting them
 * again would hand over money nobody collected.
 */
export async function insertCreditNotes(client: Client, run: RunHead, chunk: ChunkLease, now: Date): Promise<void> {
  await client.query(
    `
    INSERT INTO invoices (id, billing_run_id, operator_id, subscriber_id, status, type, corrects_invoice_id, created_at)
    SELECT $6::text || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)), $5::text, $1::text,
           x.subscriber_id, 'issued', 'credit_note', x.id, $7::timestamptz
    FROM (
      SELECT DISTINCT charged.id, charged.subscriber_id
      FROM refunds r JOIN purchases p ON p.id = r.purchase_id JOIN invoices charged ON charged.id = p.invoice_id
      WHERE ${UNCREDITED_REFUNDS_SQL} AND charged.billing_run_id <> $5::text
    ) x`,
    [...uncreditedRefundsValues(run, chunk), run.id, idStem('cn', now), now],
  );
}

/**
 * A refund credited takes back the commission on what it gave back, per
 * purchase: commission = rate × what is still billed, half-even, and the
 * difference is taken off the commission of the document that credits it.
 */
export async function takeBackCommissions(client: Client): Promise<void> {
  const remaining = '(COALESCE(x.billed_remaining, x.amount) - x.refunded)';
  await client.query(`
    WITH changed AS (
      UPDATE purchases p
      SET billed_remaining = ${remaining},
          commission_amount = ${roundHalfEvenCentsSql(`(COALESCE(x.commission_rate, 0) * ${remaining})`)}
      FROM (
        SELECT q.id, q.amount, q.billed_remaining, q.commission_rate, q.commission_amount AS before, c.doc_id, c.refunded
        FROM purchases q JOIN chunk_credits c ON c.purchase_id = q.id
      ) x
      WHERE p.id = x.id
      RETURNING x.doc_id, p.publisher_id, x.before - p.commission_amount AS takeback
    )
    INSERT INTO chunk_sums (doc_id, publisher_id, sales, refunds, vat, commission)
    SELECT doc_id, publisher_id, 0, 0, 0, -sum(takeback) FROM changed GROUP BY doc_id, publisher_id`);
}
