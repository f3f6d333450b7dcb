import type { Db } from './db.js';
import { onPrisma, type Sql } from './sql.js';

/**
 * The database as the domain holds it, whichever client the process runs it on:
 * single statements, each its own transaction, and transactions it opens for
 * each unit of work. Only src/store looks inside.
 */
export interface Database {
  sql: Sql;
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
}

/** How long a transaction may wait for a connection and run (Prisma's own defaults when left out). */
export interface TransactionLimits {
  maxWait: number;
  timeout: number;
}

export function prismaDatabase(db: Db, limits?: TransactionLimits): Database {
  return {
    sql: onPrisma(db),
    transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
      return db.$transaction((tx) => work(onPrisma(tx)), limits);
    },
  };
}
