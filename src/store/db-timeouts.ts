/**
 * How long any one database step may wait. Together they are each request's
 * deadline at the database: with PostgreSQL slow or locked, a request fails in
 * seconds (and is answered 503) instead of holding a connection, a pool slot
 * and its memory for as long as the slowness lasts.
 */
export interface DbTimeouts {
  /** Waiting for a free connection in this process's pool, and for a new connection to open. */
  poolWaitMs: number;
  /** One SQL statement, server side (PostgreSQL cancels it). */
  statementMs: number;
  /** Waiting for a row or table lock, server side. */
  lockMs: number;
  /** One statement, client side: covers a server that stopped answering without closing the socket. */
  queryMs: number;
  /** A transaction left open by a client that went quiet (or died) loses its locks after this. */
  idleInTransactionMs: number;
}

export const DEFAULT_DB_TIMEOUTS: DbTimeouts = {
  poolWaitMs: 2_000,
  statementMs: 5_000,
  lockMs: 2_000,
  queryMs: 6_000,
  idleInTransactionMs: 10_000,
};
