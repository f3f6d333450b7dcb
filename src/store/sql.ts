import type pg from 'pg';

export type PgPool = pg.Pool;

/**
 * A statement the hot path sends often: node-postgres prepares it once per
 * connection under its name, so PostgreSQL parses and plans it once.
 */
export interface Statement {
  name: string;
  text: string;
}

/** Where repositories run their SQL: a node-postgres transaction, or the pool for a single statement. */
export interface Sql {
  rows<T>(statement: Statement, values: readonly unknown[]): Promise<T[]>;
}

/** A checked-out connection closed by the server fails its query; unlistened, it would also crash the process. */
const ignoreConnectionError = () => undefined;

/** What runs a named statement: a pg client, or a billing transaction's connection. */
export interface Queryable {
  query(statement: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

export function onClient(client: Queryable): Sql {
  return {
    async rows<T>(statement: Statement, values: readonly unknown[]): Promise<T[]> {
      const result = await client.query({ name: statement.name, text: statement.text, values: [...values] });
      return result.rows as T[];
    },
  };
}

/** One statement outside any transaction: it is its own transaction. */
export function onPool(pool: PgPool): Sql {
  return {
    async rows<T>(statement: Statement, values: readonly unknown[]): Promise<T[]> {
      const result = await pool.query({ name: statement.name, text: statement.text, values: [...values] });
      return result.rows as T[];
    },
  };
}

/**
 * BEGIN, `work` on the raw connection, COMMIT, on one pooled connection; ROLLBACK and rethrow when `work`
 * throws. For the store's own long work (billing), which needs the client itself; others use inTransaction.
 */
export async function inClientTransaction<T>(pool: PgPool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  client.on('error', ignoreConnectionError);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    // A connection that could not roll back is in an unknown state: drop it rather than reuse it.
    client.off('error', ignoreConnectionError);
    client.release(broken);
  }
}

/** BEGIN, `work`, COMMIT on one pooled connection; ROLLBACK and rethrow when `work` throws. */
export function inTransaction<T>(pool: PgPool, work: (sql: Sql) => Promise<T>): Promise<T> {
  return inClientTransaction(pool, (client) => work(onClient(client)));
}
