import type { Sql, Statement } from './sql.js';
import type { SweepScope } from './sweep-scope.js';

const EXPIRE_PENDING: Statement = {
  name: 'housekeeping_expire_pending',
  text: `WITH due AS (
      SELECT id FROM purchases
      WHERE status = 'pending' AND expires_at <= $1::timestamptz
        AND ($3::text[] IS NULL OR publisher_id = ANY($3::text[]))
      ORDER BY expires_at
      LIMIT $2::int
      FOR UPDATE SKIP LOCKED
    )
    UPDATE purchases AS p SET status = 'expired'
    FROM due
    WHERE p.id = due.id AND p.status = 'pending' AND p.subscriber_id IS NULL
    RETURNING p.id`,
};

/**
 * Writes `expired` on up to `limit` pending purchases past their expiry. The
 * UPDATE repeats the pending guard, so a confirmation that committed first
 * wins and a sweep run twice (or by two workers at once) expires each once.
 */
export async function expirePendingPurchases(
  sql: Sql,
  now: Date,
  limit: number,
  scope: SweepScope = {},
): Promise<number> {
  const expired = await sql.rows<{ id: string }>(EXPIRE_PENDING, [
    now,
    limit,
    scope.publisherIds ? [...scope.publisherIds] : null,
  ]);
  return expired.length;
}

const PURGE_KEYS: Statement = {
  name: 'housekeeping_purge_idempotency_keys',
  text: `WITH old AS (
      SELECT scope, key FROM idempotency_keys
      WHERE created_at < $1::timestamptz
        AND ($3::text[] IS NULL OR scope = ANY($3::text[]))
      ORDER BY created_at
      LIMIT $2::int
      FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM idempotency_keys AS k USING old WHERE k.scope = old.scope AND k.key = old.key RETURNING 1
    )
    SELECT count(*)::int AS purged FROM gone`,
};

/** Deletes up to `limit` idempotency keys created before `cutoff`; after it, the same key is a new request. */
export async function purgeIdempotencyKeys(
  sql: Sql,
  cutoff: Date,
  limit: number,
  scope: SweepScope = {},
): Promise<number> {
  const [row] = await sql.rows<{ purged: number }>(PURGE_KEYS, [
    cutoff,
    limit,
    scope.idempotencyScopes ? [...scope.idempotencyScopes] : null,
  ]);
  return row?.purged ?? 0;
}
