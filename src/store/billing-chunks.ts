import { claimPurchases, claimRefunds, lockCorrectedInvoices } from './billing-claims.js';
import { insertCreditNotes, takeBackCommissions } from './billing-credit-notes.js';
import { numberDocuments } from './billing-numbering.js';
import { failUnfinishedRun } from './billing-run-records.js';
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
import { onClient } from './sql.js';

/** A run's chunks: the lease on one, its billing in one transaction, and the count of its failed attempts. */

export interface ChunkResult extends ChunkLease {
  invoiceCount: number;
  total: string;
}

/** Which failures of a chunk count as attempts, and how many end its run failed. */
export interface ChunkAttempts {
  counts: (error: unknown) => boolean;
  max: number;
}

/** A leased chunk's transaction failed: with the chunk's failed attempts so far when this one counted. */
export class ChunkFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly attempts: number | null,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'ChunkFailed';
  }
}

type Attempt = { billed: ChunkResult } | { failed: unknown; attempts: number } | null;

/**
 * Takes the first pending chunk nobody holds and bills it, in one transaction:
 * the row lock taken by FOR UPDATE SKIP LOCKED is the lease, and it ends with
 * the transaction, or with the connection of a worker that died. Null when no
 * chunk is free. A failure that counts is counted in that same transaction,
 * under the lease, after rolling back the chunk's work: no other worker can
 * take the chunk between its failure and its count, so one failure is one
 * attempt and the count stops at `max`, where the run ends failed.
 */
export async function billNextChunk(
  db: BillingDatabase,
  billingRunId: string,
  limits: BillingLimits,
  attempts: ChunkAttempts,
  now: Date,
): Promise<ChunkResult | null> {
  let leased = false;
  let attempt: Attempt;
  try {
    attempt = await billingTransaction(db, limits, limits.statementMs, async (client): Promise<Attempt> => {
      const { rows } = await client.query<{
        chunk_no: number;
        payer_from: string | null;
        payer_to: string | null;
        attempts: number;
        error: string | null;
        operator_id: string;
        through: Date;
      }>(
        `SELECT c.chunk_no, c.payer_from, c.payer_to, c.attempts, c.error, r.operator_id, r.through
         FROM billing_run_chunks c JOIN billing_runs r ON r.id = c.billing_run_id
         WHERE c.billing_run_id = $1::text AND c.status = 'pending' AND r.status = 'running'
         ORDER BY c.chunk_no LIMIT 1
         FOR UPDATE OF c SKIP LOCKED`,
        [billingRunId],
      );
      const row = rows[0];
      if (!row) return null;
      // Out of attempts, yet its run read as running: this statement read the run before the count that reached
      // the limit committed (a row it locks is read again once locked, the run's is not), or the limit was lowered
      // since. Billing the chunk again would pass the limit: the run ends failed with the chunk's last error.
      if (row.attempts >= attempts.max) {
        const message = row.error ?? `chunk ${row.chunk_no} failed ${row.attempts} times`;
        await failUnfinishedRun(onClient(client), billingRunId, message, now);
        return null;
      }
      const lease: ChunkLease = {
        billingRunId,
        chunkNo: row.chunk_no,
        payerFrom: row.payer_from,
        payerTo: row.payer_to,
      };
      leased = true;
      const head: RunHead = { id: billingRunId, operatorId: row.operator_id, through: row.through };
      await client.query('SAVEPOINT chunk');
      try {
        const billed = await billChunk(client, head, lease, now);
        // Deferred checks (a journal entry with no postings) would otherwise fire at COMMIT, past the savepoint,
        // and a chunk failing there would never be counted: they are run here, where a failure is an attempt.
        await client.query('SET CONSTRAINTS ALL IMMEDIATE');
        return { billed: { ...lease, ...billed } };
      } catch (error) {
        if (!attempts.counts(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT chunk');
        return { failed: error, attempts: await countFailure(client, lease, error, attempts.max, now) };
      }
    });
  } catch (error) {
    if (leased) throw new ChunkFailed(error, null);
    throw error;
  }
  if (attempt && 'failed' in attempt) throw new ChunkFailed(attempt.failed, attempt.attempts);
  return attempt ? attempt.billed : null;
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

/** Counts a failed attempt at the leased chunk; the count that reaches `max` ends the run failed with its error. */
async function countFailure(
  client: Client,
  lease: ChunkLease,
  error: unknown,
  max: number,
  now: Date,
): Promise<number> {
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
  const { rows } = await client.query<{ attempts: number }>(
    `UPDATE billing_run_chunks SET attempts = attempts + 1, error = $3
     WHERE billing_run_id = $1::text AND chunk_no = $2::int RETURNING attempts`,
    [lease.billingRunId, lease.chunkNo, message],
  );
  const attempts = rows[0]?.attempts;
  if (attempts === undefined) throw new Error(`chunk ${lease.chunkNo} of billing run ${lease.billingRunId} vanished`);
  if (attempts >= max) await failUnfinishedRun(onClient(client), lease.billingRunId, message, now);
  return attempts;
}
