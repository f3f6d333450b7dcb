import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { observePool } from '../observability/metrics.js';

export type Db = PrismaClient;
/** The client handed to code running inside `db.$transaction(async (tx) => …)`. */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export function createDb(databaseUrl: string, poolSize = 10): Db {
  // The pool is made here rather than by the adapter so that /metrics can report its waits.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  observePool(pool);
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  return new PrismaClient({ adapter });
}

/** Long enough for a hot subscriber's queue of confirmations to drain under load. */
export const TRANSACTION_OPTIONS = { maxWait: 20_000, timeout: 20_000 } as const;
