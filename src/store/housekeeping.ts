import { Prisma } from '../generated/prisma/client.js';
import type { Db } from './db.js';
import type { SweepScope } from './sweep-scope.js';

/**
 * Writes `expired` on up to `limit` pending purchases past their expiry. The
 * UPDATE repeats the pending guard, so a confirmation that committed first
 * wins and a sweep run twice (or by two workers at once) expires each once.
 */
export async function expirePendingPurchases(
  db: Db,
  now: Date,
  limit: number,
  scope: SweepScope = {},
): Promise<number> {
  const byPublisher = scope.publisherIds
    ? Prisma.sql`AND publisher_id = ANY(${[...scope.publisherIds]}::text[])`
    : Prisma.empty;
  const expired = await db.$queryRaw<{ id: string }[]>`
    WITH due AS (
      SELECT id FROM purchases
      WHERE status = 'pending' AND expires_at <= ${now} ${byPublisher}
      ORDER BY expires_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE purchases AS p SET status = 'expired'
    FROM due
    WHERE p.id = due.id AND p.status = 'pending' AND p.subscriber_id IS NULL
    RETURNING p.id`;
  return expired.length;
}

/** Deletes up to `limit` idempotency keys created before `cutoff`; after it, the same key is a new request. */
export async function purgeIdempotencyKeys(
  db: Db,
  cutoff: Date,
  limit: number,
  scope: SweepScope = {},
): Promise<number> {
  const byScope = scope.idempotencyScopes
    ? Prisma.sql`AND scope = ANY(${[...scope.idempotencyScopes]}::text[])`
    : Prisma.empty;
  return db.$executeRaw`
    WITH old AS (
      SELECT scope, key FROM idempotency_keys
      WHERE created_at < ${cutoff} ${byScope}
      ORDER BY created_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    DELETE FROM idempotency_keys AS k USING old WHERE k.scope = old.scope AND k.key = old.key`;
}
