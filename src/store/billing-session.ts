import type pg from 'pg';
import { inClientTransaction, type PgPool } from './sql.js';

/**
 * What every step of a billing run shares (docs/money.md, "Billing runs"):
 * its bounds, its transaction, the run and chunk it works on, and the SQL
 * fragments its statements are written with. Each step is one transaction on
 * a node-postgres connection; its statements are plain parameterised SQL.
 */

export type StoredRunStatus = 'queued' | 'running' | 'done' | 'failed';

export interface BillingLimits {
  /** One statement of a chunk or of the final step; a chunk is bounded, so this is generous. */
  statementMs: number;
  /** Preparation reads every unbilled purchase of the operator once. */
  prepareStatementMs: number;
  /** Waiting for a row lock held by a confirmation, a refund or an outcome. */
  lockMs: number;
  /**
   * How often PostgreSQL checks, while a statement runs, that the client is
   * still there: a killed worker's backend stops within this instead of
   * finishing its statement (and holding its locks) for nobody.
   */
  clientCheckMs: number;
}

export const DEFAULT_BILLING_LIMITS: BillingLimits = {
  statementMs: 30_000,
  prepareStatementMs: 120_000,
  lockMs: 10_000,
  clientCheckMs: 1_000,
};

export type Client = pg.PoolClient;

export interface RunHead {
  id: string;
  operatorId: string;
  through: Date;
}

export interface ChunkLease {
  billingRunId: string;
  chunkNo: number;
  payerFrom: string | null;
  payerTo: string | null;
}

/** Purchase statuses that were confirmed once and so are owed, whatever happened since. */
export const BILLABLE_STATUSES_SQL = `('confirmed', 'refunded', 'disputed')`;

/** The VAT rate of purchase `purchase` with its publisher `pub` and subscription `sub` (API.md, "VAT by product"). */
export function purchaseVatRateSql(purchase: string): string {
  return `COALESCE(${purchase}.vat_rate, sub.vat_rate, pub.vat_rate)`;
}

/**
 * `column` lies in the range [from, to) given by two text parameters, a NULL
 * bound being open. Each statement is sent unnamed, so PostgreSQL plans it
 * with its values and folds the NULL tests away: the bounds reach the index.
 */
export function inRangeSql(column: string, fromParam: string, toParam: string): string {
  return `((${fromParam}::text IS NULL OR ${column} >= ${fromParam}::text)
    AND (${toParam}::text IS NULL OR ${column} < ${toParam}::text))`;
}

/**
 * A subscriber `s` whose payer (its holder, else itself) is in the range,
 * written so that the primary key and the holder_id index can find them.
 */
export function payerInRangeSql(fromParam: string, toParam: string): string {
  return `((s.holder_id IS NULL AND ${inRangeSql('s.id', fromParam, toParam)})
    OR ${inRangeSql('s.holder_id', fromParam, toParam)})`;
}

/** The chunk's documents in `alias`: its payers' invoices and credit notes in run $1 whose payer is in [$2, $3). */
export function chunkDocsSql(alias: string): string {
  return `${alias}.billing_run_id = $1::text AND ${inRangeSql(`${alias}.subscriber_id`, '$2', '$3')}`;
}

/** The values of chunkDocsSql's $1, $2, $3. */
export function chunkDocsValues(run: RunHead, chunk: ChunkLease): unknown[] {
  return [run.id, chunk.payerFrom, chunk.payerTo];
}

/** Runs of one operator take turns with its outcomes (see recordInvoiceOutcome): the final step exclusive, outcomes shared. */
export function operatorBillingLockText(mode: 'exclusive' | 'shared', operatorId: string): string {
  const take = mode === 'exclusive' ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
  return `${take}(hashtext('kiosque.billing'), hashtext(${operatorId}))`;
}

/**
 * BEGIN, the billing session's bounds, `work`, COMMIT. The bounds are SET
 * LOCAL, so they hold on any pool's connection and leave it as it was.
 */
export function billingTransaction<T>(
  pool: PgPool,
  limits: BillingLimits,
  statementMs: number,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  return inClientTransaction(pool, async (client) => {
    // random_page_cost 1.1 (the usual figure for data in memory or on SSD): at the default 4, the planner
    // reads every unbilled purchase by sequential scan for each chunk instead of its payers' few by index
    // (measured: 227 ms against 5 ms for the purchases of 335 payers out of 20,000).
    await client.query(
      `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true),
              set_config('client_connection_check_interval', $3, true), set_config('random_page_cost', '1.1', true)`,
      [String(statementMs), String(limits.lockMs), String(limits.clientCheckMs)],
    );
    return work(client);
  });
}
