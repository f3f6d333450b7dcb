import type { Db } from './db.js';
import { onPrisma, type Sql } from './sql.js';

/**
 * The database as a sweep sees it, whichever client the process holds: single
 * statements, each its own transaction, and transactions it opens for each item.
 */
export interface Database {
  sql: Sql;
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
}

export function prismaDatabase(db: Db): Database {
  return {
    sql: onPrisma(db),
    transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
      return db.$transaction((tx) => work(onPrisma(tx)));
    },
  };
}
