import { accounts, EUR } from '../shared/accounts.js';
import { chunkDocsSql, chunkDocsValues, type ChunkLease, type Client, type RunHead } from './billing-session.js';

/**
 * What the chunk's claims wrote, summed as they write it: per document and
 * publisher, the sales, refunds, VAT and commission of its new lines (in
 * chunk_sums), and per refunded purchase what each document credited (in
 * chunk_credits). Totals, commission taken back and journal entries read these
 * few rows instead of reading every line back and joining it to its purchase.
 * A chunk's documents get all their lines from the chunk's own transaction
 * (a document's payer is in one chunk's range, and a chunk commits once), so
 * these sums are their lines' sums.
 */
export async function createChunkTables(client: Client): Promise<void> {
  await client.query(`
    CREATE TEMP TABLE chunk_sums (doc_id text, publisher_id text, sales numeric(14, 2), refunds numeric(14, 2),
      vat numeric(14, 2), commission numeric(14, 2)) ON COMMIT DROP;
    CREATE TEMP TABLE chunk_credits (doc_id text, purchase_id text, refunded numeric(14, 2)) ON COMMIT DROP`);
}

/**
 * Totals are sums of lines: an invoice got its charges' at its claim, so only
 * documents that credited refunds are summed again. Documents left without a
 * line (refunds claimed elsewhere) are dropped.
 */
export async function totalDocuments(client: Client, run: RunHead, chunk: ChunkLease): Promise<void> {
  await client.query(`
    UPDATE invoices i SET total = t.total, vat_amount = t.vat
    FROM (
      SELECT doc_id, sum(sales) - sum(refunds) AS total, sum(vat) AS vat FROM chunk_sums
      GROUP BY doc_id HAVING bool_or(refunds <> 0)
    ) t
    WHERE i.id = t.doc_id`);
  await client.query(
    `DELETE FROM invoices i
     WHERE ${chunkDocsSql('i')} AND NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id)`,
    chunkDocsValues(run, chunk),
  );
}

/**
 * One journal entry per invoice and per credit note of the chunk, all in one
 * statement: the receivable against each publisher's unsettled sales and
 * refunds, and the commission Kiosque earns (or gives back) on them. The
 * chunk's few publishers get their account names from the chart of accounts.
 */
export async function postDocuments(client: Client, run: RunHead, chunk: ChunkLease, now: Date): Promise<void> {
  const op = run.operatorId;
  const { rows } = await client.query<{ publisher_id: string }>('SELECT DISTINCT publisher_id FROM chunk_sums');
  const publisherIds = rows.map((r) => r.publisher_id);
  const named = (kind: 'sales' | 'refunds' | 'commission') =>
    publisherIds.map((publisherId) => accounts.unsettled(op, publisherId, kind));
  await client.query(
    `
    WITH docs AS (
      SELECT id, type, total FROM invoices i WHERE ${chunkDocsSql('i')}
    ), e AS (
      INSERT INTO ledger_entries (key, kind, operator_id, billing_run_id, invoice_id, created_at)
      SELECT type || ':' || id, type, $4::text, $1::text, id, $5::timestamptz FROM docs
      RETURNING id, invoice_id
    ), named AS (
      SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::text[])
        AS a(publisher_id, sales_account, refunds_account, commission_account)
    ), lines AS (
      -- A document's commission: what its charged purchases earned at their claim, less what its refunds took back.
      SELECT s.doc_id AS invoice_id, n.sales_account, n.refunds_account, n.commission_account,
             sum(s.sales) AS sales, sum(s.refunds) AS refunds, sum(s.commission) AS commission
      FROM chunk_sums s JOIN named n ON n.publisher_id = s.publisher_id
      GROUP BY s.doc_id, n.sales_account, n.refunds_account, n.commission_account
    ), postings (invoice_id, account, amount) AS (
      SELECT id, $6::text, total FROM docs
      UNION ALL SELECT invoice_id, sales_account, -sales FROM lines
      UNION ALL SELECT invoice_id, refunds_account, refunds FROM lines
      UNION ALL SELECT invoice_id, commission_account, commission FROM lines
      UNION ALL SELECT invoice_id, $7::text, -commission FROM lines
    )
    INSERT INTO ledger_postings (entry_id, account, unit, amount)
    SELECT e.id, p.account, $8::text, sum(p.amount)
    FROM postings p JOIN e ON e.invoice_id = p.invoice_id
    GROUP BY e.id, p.account
    HAVING sum(p.amount) <> 0`,
    [
      ...chunkDocsValues(run, chunk),
      op,
      now,
      accounts.receivable(op),
      accounts.commission,
      EUR,
      publisherIds,
      named('sales'),
      named('refunds'),
      named('commission'),
    ],
  );
}
