import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { observePool } from '../observability/metrics.js';
import { DEFAULT_DB_TIMEOUTS, type DbTimeouts } from './db-timeouts.js';
import { connectionOptions } from './primary-host.js';

export { DEFAULT_DB_TIMEOUTS, type DbTimeouts };

export type Db = PrismaClient;
/** The client handed to code running inside `db.$transaction(async (tx) => …)`. */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/**
 * The one set of pg.Pool options for every pool Kiosque opens (Prisma's
 * adapter and any node-postgres pool beside it), so that all of them fail
 * fast the same way.
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

/** A pool with the shared options. Idle connections that PostgreSQL closes are replaced, not fatal. */
export function createPool(databaseUrl: string, max: number, timeouts: DbTimeouts = DEFAULT_DB_TIMEOUTS): pg.Pool {
  const pool = new pg.Pool(poolOptions(databaseUrl, max, timeouts));
  pool.on('error', () => undefined);
  observePool(pool);
  return pool;
}

const poolsByDb = new WeakMap<Db, pg.Pool>();

export function createDb(databaseUrl: string, poolSize = 10, timeouts: DbTimeouts = DEFAULT_DB_TIMEOUTS): Db {
  // Built here rather than by the adapter so that /metrics can report its waits and load shedding can read them.
  const pool = createPool(databaseUrl, poolSize, timeouts);
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  poolsByDb.set(db, pool);
  return db;
}

/** Requests waiting for a connection of `db`'s pool: load shedding reads it to refuse work it cannot start soon. */
export function poolWaiting(db: Db): number {
  return poolsByDb.get(db)?.waitingCount ?? 0;
}

/** Long enough for a hot subscriber's queue of confirmations to drain under load. */
export const TRANSACTION_OPTIONS = { maxWait: 20_000, timeout: 20_000 } as const;
