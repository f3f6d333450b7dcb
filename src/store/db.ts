import pg from 'pg';
import { DEFAULT_DB_TIMEOUTS, type DbTimeouts } from './db-timeouts.js';
import { connectionOptions, PrimaryPool } from './primary-host.js';

/**
 * The one set of pg.Pool options for every pool Kiosque opens, so that all of
 * them fail fast the same way.
 */
export function poolOptions(
  databaseUrl: string,
  max: number,
  timeouts: DbTimeouts = DEFAULT_DB_TIMEOUTS,
): pg.PoolConfig {
  return {
    // A multi-host URL gets a Client that finds the writable primary (primary-host.ts).
    ...connectionOptions(databaseUrl, timeouts.poolWaitMs),
    max,
    connectionTimeoutMillis: timeouts.poolWaitMs,
    statement_timeout: timeouts.statementMs,
    lock_timeout: timeouts.lockMs,
    query_timeout: timeouts.queryMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    keepAlive: true,
  };
}

/**
 * Where a process's pool is made: the one place a pool is created, so that
 * choosing the host (or any other connection policy) is a change here alone.
 * Idle connections that PostgreSQL closes are replaced, not fatal. Whoever
 * wires the process hands it to /metrics (observePool).
 */
export function createPool(databaseUrl: string, max: number, timeouts: DbTimeouts = DEFAULT_DB_TIMEOUTS): pg.Pool {
  const options = poolOptions(databaseUrl, max, timeouts);
  // A pool over several hosts asks again when a new connection to a remembered primary failed unused
  // (primary-host.ts); one host has nothing else to ask, and its queries keep pg.Pool's own path.
  const pool = options.Client ? new PrimaryPool(options) : new pg.Pool(options);
  pool.on('error', () => undefined);
  return pool;
}
