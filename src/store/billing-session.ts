import type pg from 'pg';
import type { Connection } from './database.js';
import { inClientTransaction, type Queryable } from './sql.js';

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

/**
 * The database as billing holds it: the process's one pool, on which each
 * step checks out a connection for a transaction with billing's bounds, and
 * single statements beside. A process's Connection is one.
 */
export type BillingDatabase = Pick<Connection, 'pool' | 'sql'>;

/** A billing transaction's connection: statements as text with their values, or named. */
export interface Client extends Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: readonly unknown[],
  ): Promise<pg.QueryResult<R>>;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: pg.QueryConfig): Promise<pg.QueryResult<R>>;
}

/**
 * How much longer than PostgreSQL's own statement_timeout the client waits for
 * an answer: the server cancels first and says why; the client gives up only on
 * a server that stopped answering without closing the socket.
 */
const CLIENT_GRACE_MS = 5_000;

/**
 * The connection with every statement's client-side deadline (pg's
 * query_timeout) set for billing's statements: the pool's own is a request's
 * few seconds, and a chunk's statement may take its `statementMs`.
 */
function billingClient(connection: pg.PoolClient, statementMs: number): Client {
  const readTimeoutMs = statementMs + CLIENT_GRACE_MS;
  return {
    query<R extends pg.QueryResultRow>(statement: string | pg.QueryConfig, values?: readonly unknown[]) {
      const config: pg.QueryConfig & { query_timeout: number } =
        typeof statement === 'string'
          ? { text: statement, values: values ? [...values] : undefined, query_timeout: readTimeoutMs }
          : { ...statement, query_timeout: readTimeoutMs };
      return connection.query<R>(config);
    },
  };
}

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

/** The VAT rate of purchase `purchase` with its publisher `pub` and subscription `sub` (docs/money.md). */
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
 * BEGIN, the billing session's bounds, `work`, COMMIT, on a connection of the
 * process's one pool. The bounds are SET LOCAL, so they hold for this
 * transaction alone and hand the connection back as the pool's other users
 * expect it; application_name tells billing's transactions apart in
 * pg_stat_activity (and to whoever looks for a blocked chunk there).
 */
export function billingTransaction<T>(
  db: BillingDatabase,
  limits: BillingLimits,
  statementMs: number,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  return inClientTransaction(db.pool, async (connection) => {
    // random_page_cost 1.1 (the usual figure for data in memory or on SSD): at the default 4, the planner
    // reads every unbilled purchase by sequential scan for each chunk instead of its payers' few by index
    // (measured: 227 ms against 5 ms for the purchases of 335 payers out of 20,000).
    await connection.query(
      `SELECT set_config('application_name', 'kiosque-billing', true),
              set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true),
              set_config('client_connection_check_interval', $3, true), set_config('random_page_cost', '1.1', true)`,
      [String(statementMs), String(limits.lockMs), String(limits.clientCheckMs)],
    );
    return work(billingClient(connection, statementMs));
  });
}
