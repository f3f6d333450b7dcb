import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { createPool } from './db.js';
import type { DbTimeouts } from './db-timeouts.js';
import { inTransaction, onPool, type Sql } from './sql.js';

/*
 * One driver per job (DESIGN.md "Shape"), on ONE pg.Pool per process:
 *
 * - node-postgres with plain parameterised SQL (a `Statement` run through `Sql`): every transaction and every
 *   statement that locks, sums or touches many rows: the purchase path, confirmations, refunds, billing's
 *   set-based statements, the journal, sweeps. `Database.transaction` is BEGIN/COMMIT on one pooled connection.
 * - Prisma's typed client (model methods: `findMany`, `findUnique`, `create`, ...): reads and writes of one
 *   model outside a transaction, where the query reads naturally as an object (admin and listing reads).
 *
 * Prisma is never a second way to send SQL text: no `$queryRaw*`, `$executeRaw*`, `Prisma.sql` or Prisma
 * `$transaction` in src/ (eslint.config.js holds this). Prisma's adapter runs on the same pool as pg, so a
 * process opens one pool, sized once, observed once.
 */

/** The database as the domain holds it: single statements, and transactions it opens for each unit of work. */
export interface Database {
  sql: Sql;
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
}

/** A process's one database handle: what the domain sees, and what only src/store looks inside. */
export interface Connection extends Database {
  /** Prisma's typed client on the same pool: model methods only. */
  prisma: PrismaClient;
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
