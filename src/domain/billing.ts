import type { SweepScope } from '../store/sweep-scope.js';
import { newId } from '../ids.js';
import {
  billingRunById,
  failUnfinishedRun,
  insertBillingRun,
  unfinishedRunIds,
  type BillingRunRecord,
} from '../store/billing-run-records.js';
import { billNextChunk, ChunkFailed, type ChunkResult } from '../store/billing-chunks.js';
import { finalizeRun, prepareRun, runSummary } from '../store/billing-runs.js';
import { DEFAULT_BILLING_LIMITS, type BillingDatabase, type BillingLimits } from '../store/billing-session.js';
import type { Database } from '../store/database.js';
import { operatorBillingRuns } from '../store/listings.js';
import type { Sql } from '../store/sql.js';
import { notFound } from './errors.js';
import { formatAmount } from './money.js';

export const BILLING_RUN_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type BillingRunStatus = (typeof BILLING_RUN_STATUSES)[number];

export async function createBillingRun(
  tx: Sql,
  operatorId: string,
  through: Date,
  now = new Date(),
): Promise<BillingRunRecord> {
  return insertBillingRun(tx, { id: newId('brun', now.getTime()), operatorId, through, createdAt: now });
}

/** An operator sees only its own runs; anyone else's is not found, not forbidden. */
export async function operatorBillingRun(db: Sql, operatorId: string, billingRunId: string): Promise<BillingRunRecord> {
  const run = await billingRunById(db, billingRunId);
  if (!run || run.operatorId !== operatorId) throw notFound('Billing run');
  return run;
}

/** One page of the operator's runs, newest first: at most `limit`, and one more to tell whether a next page exists. */
export async function listBillingRuns(
  database: Database,
  operatorId: string,
  limit: number,
  cursor: string | undefined,
): Promise<BillingRunRecord[]> {
  return operatorBillingRuns(database, operatorId, { take: limit + 1, before: cursor ?? null });
}

export interface BillingDriveOptions {
  /** Chunks one call bills at once, each in its own transaction on its own connection. */
  parallelism: number;
  /** At most this many payers per chunk, fixed when the run is prepared. */
  chunkPayers: number;
  /** How long to wait before looking again at a run another worker holds (a chunk, or the operator's running run). */
  pollMs: number;
  /** Failed attempts at one chunk, by errors that would fail again, after which the run ends failed. */
  maxChunkAttempts: number;
  limits: BillingLimits;
  onChunk?: (chunk: ChunkResult) => void;
  onChunkError?: (error: unknown, countsAsAttempt: boolean) => void;
}

export const DEFAULT_BILLING_DRIVE: BillingDriveOptions = {
  parallelism: 2,
  chunkPayers: 2_000,
  pollMs: 250,
  maxChunkAttempts: 5,
  limits: DEFAULT_BILLING_LIMITS,
};

export interface BillingOutcome {
  billingRunId: string;
  status: BillingRunStatus;
  invoiceCount: number;
  total: string;
  error: string | null;
  /** True when this call closed the run (its settlement and totals); false when another did, or it was done already. */
  performed: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TRANSIENT_SQLSTATE = /^(08|40001|40P01|55P03|57P0[123]|53300)/;
const TRANSIENT_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout/i;

/**
 * Whether a chunk's failure says nothing about the chunk: a lost connection,
 * a server shutting down, a lock or serialization conflict. Those are retried
 * without end; anything else (a constraint, a statement timeout, a bug) counts
 * as an attempt, and a run whose chunk fails maxChunkAttempts times ends
 * failed with the error's message. A killed worker counts nothing: it could
 * not write.
 */
export function isTransientBillingError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE.test(code);
  if (typeof code === 'string' && code.startsWith('E')) return true;
  return TRANSIENT_MESSAGE.test(error instanceof Error ? error.message : String(error));
}

function reportChunkFailure(error: unknown, options: BillingDriveOptions): void {
  const counted = error instanceof ChunkFailed && error.attempts !== null;
  options.onChunkError?.(error instanceof ChunkFailed ? error.cause : error, counted);
}

const countsAsAttempt = (error: unknown) => !isTransientBillingError(error);

/**
 * Bills whatever chunks of the run are free, `parallelism` at a time, then
 * closes the run if every chunk is done. Never waits for another worker's
 * chunk: the sweep calls it for every running run. True when this call closed
 * the run.
 */
export async function workBillingRun(
  db: BillingDatabase,
  billingRunId: string,
  options: BillingDriveOptions = DEFAULT_BILLING_DRIVE,
): Promise<boolean> {
  const lane = async () => {
    for (;;) {
      try {
        const attempts = { counts: countsAsAttempt, max: options.maxChunkAttempts };
        const chunk = await billNextChunk(db, billingRunId, options.limits, attempts, new Date());
        if (!chunk) return;
        options.onChunk?.(chunk);
      } catch (error) {
        reportChunkFailure(error, options);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallelism) }, lane));
  return finalizeRun(db, billingRunId, options.limits);
}

/**
 * Performs a billing run to its end: prepares it once (waiting while another
 * run of the operator is running), bills its chunks alongside any other
 * worker, and returns when the run is done or failed. Each chunk commits on
 * its own, so a worker killed half-way loses at most the chunks it held, and
 * any worker finishes the rest. Running it again once done changes nothing.
 */
export async function runBilling(
  db: BillingDatabase,
  billingRunId: string,
  options: BillingDriveOptions = DEFAULT_BILLING_DRIVE,
): Promise<BillingOutcome> {
  for (;;) {
    const prepared = await prepareRun(db, billingRunId, options.chunkPayers, options.limits, new Date());
    if (prepared.state === 'missing') throw notFound('Billing run');
    if (prepared.state !== 'blocked') break;
    await sleep(options.pollMs);
  }
  let performed = false;
  for (;;) {
    if (await workBillingRun(db, billingRunId, options)) performed = true;
    const summary = await runSummary(db, billingRunId);
    if (!summary) throw notFound('Billing run');
    if (summary.status !== 'running' && summary.status !== 'queued') {
      return {
        billingRunId,
        status: summary.status,
        invoiceCount: summary.invoiceCount,
        total: formatAmount(summary.total),
        error: summary.error,
        performed,
      };
    }
    await sleep(options.pollMs);
  }
}

/** Only for a run whose last attempt failed: a run still being retried stays running. */
export async function markBillingRunFailed(
  db: Sql,
  billingRunId: string,
  message: string,
  now = new Date(),
): Promise<void> {
  await failUnfinishedRun(db, billingRunId, message, now);
}

/** Runs PostgreSQL says are unfinished: the queue must hold a job for each, whatever Redis lost. */
export async function unfinishedBillingRunIds(db: Sql, scope: SweepScope = {}): Promise<string[]> {
  return unfinishedRunIds(db, scope.operatorIds);
}
