import { claimPurchases, claimRefunds, lockCorrectedInvoices } from './billing-claims.js';
import { insertCreditNotes, takeBackCommissions } from './billing-credit-notes.js';
import { numberDocuments } from './billing-numbering.js';
import { createChunkTables, postDocuments, totalDocuments } from './billing-postings.js';
import {
  billingTransaction,
  chunkDocsSql,
  type BillingDatabase,
  type BillingLimits,
  type ChunkLease,
  type Client,
  type RunHead,
} from './billing-session.js';

/** A run's chunks: the lease on one, its billing in one transaction, and the count of its failed attempts. */

export interface ChunkResult extends ChunkLease {
  invoiceCount: number;
  total: string;
}

/** A chunk's transaction failed: the chunk is named so that its attempt can be counted. */
export class ChunkFailed extends Error {
  constructor(
    readonly lease: ChunkLease,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'ChunkFailed';
  }
}

/**
 * Takes the first pending chunk nobody holds and bills it, in one transaction:
 * the row lock taken by FOR UPDATE SKIP LOCKED is the lease, and it ends with
 * the transaction, or with the connection of a worker that died. Null when no
 * chunk is free.
 */
export async function billNextChunk(
  db: BillingDatabase,
  billingRunId: string,
  limits: BillingLimits,
  now: Date,
): Promise<ChunkResult | null> {
  let lease: ChunkLease | undefined;
  try {
    return await billingTransaction(db, limits, limits.statementMs, async (client) => {
      const { rows } = await client.query<{
        chunk_no: number;
        payer_from: string | null;
        payer_to: string | null;
        operator_id: string;
        through: Date;
      }>(
        `SELECT c.chunk_no, c.payer_from, c.payer_to, r.operator_id, r.through
         FROM billing_run_chunks c JOIN billing_runs r ON r.id = c.billing_run_id
         WHERE c.billing_run_id = $1::text AND c.status = 'pending' AND r.status = 'running'
         ORDER BY c.chunk_no LIMIT 1
         FOR UPDATE OF c SKIP LOCKED`,
        [billingRunId],
      );
      const row = rows[0];
      if (!row) return null;
      lease = { billingRunId, chunkNo: row.chunk_no, payerFrom: row.payer_from, payerTo: row.payer_to };
      const head: RunHead = { id: billingRunId, operatorId: row.operator_id, through: row.through };
      return { ...lease, ...(await billChunk(client, head, lease, now)) };
    });
  } catch (error) {
    if (lease) throw new ChunkFailed(lease, error);
    throw error;
  }
}

async function billChunk(
  client: Client,
  run: RunHead,
  chunk: ChunkLease,
  now: Date,
): Promise<{ invoiceCount: number; total: string }> {
  await createChunkTables(client);
  await claimPurchases(client, run, chunk, now);
  await lockCorrectedInvoices(client, run, chunk);
  await insertCreditNotes(client, run, chunk, now);
  await claimRefunds(client, run, chunk);
  await takeBackCommissions(client);
  await totalDocuments(client, run, chunk);
  await postDocuments(client, run, chunk, now);
  await numberDocuments(client, run, chunk, now);
  const { rows } = await client.query<{ invoice_count: number; total: string }>(
    `UPDATE billing_run_chunks c SET status = 'done', finished_at = $4::timestamptz, error = NULL,
       invoice_count = s.invoice_count, total = s.total
     FROM (SELECT count(*)::int AS invoice_count, COALESCE(sum(total), 0) AS total FROM invoices i
           WHERE ${chunkDocsSql('i')}) s
     WHERE c.billing_run_id = $1::text AND c.chunk_no = $5::int
     RETURNING c.invoice_count, c.total::text AS total`,
    [run.id, chunk.payerFrom, chunk.payerTo, now, chunk.chunkNo],
  );
  const summary = rows[0];
  if (!summary) throw new Error(`chunk ${chunk.chunkNo} of billing run ${run.id} vanished while it was billed`);
  return { invoiceCount: summary.invoice_count, total: summary.total };
}

/** Counts a failed attempt at a chunk, and returns how many there have been. */
export async function recordChunkFailure(db: BillingDatabase, lease: ChunkLease, message: string): Promise<number> {
  const { rows: found } = await db.pool.query<{ attempts: number }>(
    `UPDATE billing_run_chunks SET attempts = attempts + 1, error = $3
     WHERE billing_run_id = $1 AND chunk_no = $2 RETURNING attempts`,
    [lease.billingRunId, lease.chunkNo, message.slice(0, 1000)],
  );
  return found[0]?.attempts ?? 0;
}
