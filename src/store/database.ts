import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { createPool } from './db.js';
import type { DbTimeouts } from './db-timeouts.js';
import { inTransaction, onPool, type Sql } from './sql.js';

/*
 * One driver per job (README.md "How it is built"), on ONE pg.Pool per process:
 *
 * - node-postgres with plain parameterised SQL (a `Statement` run through `Sql`): every transaction and every
 *   statement that locks, sums or touches many rows: the purchase path, confirmations, refunds, billing's
 *   set-based statements, the journal, sweeps, and the lookups every request makes (API keys, limits).
 *   `Database.transaction` is BEGIN/COMMIT on one pooled connection.
 * - Prisma's typed client (model methods: `findMany`, `findUnique`, `update`, ...): reads and writes of one
 *   model outside any transaction, where the query reads naturally as an object. These files, and no other,
 *   use it, and they send no SQL text (TYPED_CLIENT_FILES in eslint.config.js):
 *     listings.ts   the API's paged listings: publishers' purchases and subscriptions (a pending offer past its
 *                   expiry shows as expired), subscribers' purchases and subscriptions, operators' billing runs,
 *                   publishers' settlements and webhook events;
 *     profiles.ts   operators and publishers as the admin and publishers themselves read and change them.
 *   A write made inside a transaction beside pg statements stays on pg: admin registrations, suspensions and
 *   secret rotations run in their idempotency key's transaction (src/http/idempotency.ts).
 *
 * Prisma is never a second way to send SQL text: no `$queryRaw*`, `$executeRaw*`, `Prisma.sql` or Prisma
 * `$transaction` in src/, and the typed client is never reached from inside a pg transaction's work
 * (eslint.config.js holds both). Prisma's adapter runs on the same pool as pg, so a process opens one pool,
 * sized once, observed once.
 */

/**
 * The database as the domain holds it: single statements, transactions it opens for each unit of work, and
 * Prisma's typed client, which only src/store looks inside (the domain passes the Database on).
 */
export interface Database {
  sql: Sql;
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /** Prisma's typed client on the same pool: model methods only, in the files named above. */
  prisma: PrismaClient;
}

/** A process's one database handle: what the domain sees, and the pool and closing that only wiring uses. */
export interface Connection extends Database {
  pool: pg.Pool;
  close(): Promise<void>;
}

/** The handle over a pool: pg for statements and transactions, Prisma's typed client beside it. */
export function databaseOn(pool: pg.Pool): Connection {
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    sql: onPool(pool),
    transaction: (work) => inTransaction(pool, work),
    prisma,
    pool,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * Opens the process's one pool (`max` connections, the config's deadlines) and the handle over it;
 * `observe` is handed the pool (for /metrics) by whoever wires the process.
 */
export function openDatabase(
  databaseUrl: string,
  max: number,
  timeouts?: DbTimeouts,
  observe: (pool: pg.Pool) => void = () => undefined,
): Connection {
  const pool = createPool(databaseUrl, max, timeouts);
  observe(pool);
  return databaseOn(pool);
}

/** Requests waiting for a connection: load shedding reads it to refuse work it cannot start soon. */
export function connectionsAwaited(database: Connection): number {
  return database.pool.waitingCount;
}
