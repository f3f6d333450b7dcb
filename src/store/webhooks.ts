import type { Sql, Statement } from './sql.js';

/** An outbox event leased to one dispatcher, with where and how to send it. */
export interface ClaimedEventRecord {
  id: string;
  /** The recipient: one of the two is set. */
  publisherId: string | null;
  operatorId: string | null;
  /** The whole webhook body, as it will be signed and sent. */
  payload: unknown;
  /** Attempts counted so far, this one included: the claim's fencing token. */
  attempts: number;
  webhookUrl: string | null;
  /** The recipient's current secret, then a rotated-out one still within its overlap; each signs the delivery. */
  webhookSecrets: string[];
}

export interface ClaimScope {
  now: Date;
  limit: number;
  leaseUntil: Date;
  /** Restricts the claim to these publishers' and operators' events; unset in production. */
  publisherIds?: readonly string[];
  operatorIds?: readonly string[];
}

function claimStatement(name: string, scoped: string): Statement {
  return {
    name,
    text: `WITH due AS (
      SELECT id FROM outbox_events
      WHERE delivered_at IS NULL AND failed_at IS NULL AND skipped_at IS NULL
        AND next_attempt_at <= $1::timestamptz ${scoped}
      ORDER BY next_attempt_at
      LIMIT $2::int
      FOR UPDATE SKIP LOCKED
    ),
    target AS (
      SELECT due.id,
             COALESCE(p.webhook_url, o.webhook_url) AS webhook_url,
             array_remove(ARRAY[
               COALESCE(p.webhook_secret, o.webhook_secret),
               CASE WHEN p.previous_webhook_secret_expires_at > $1::timestamptz THEN p.previous_webhook_secret END
             ], NULL) AS webhook_secrets
      FROM due
      JOIN outbox_events x ON x.id = due.id
      LEFT JOIN publishers p ON p.id = x.publisher_id
      LEFT JOIN operators o ON o.id = x.operator_id
    )
    UPDATE outbox_events AS e
    SET attempts = e.attempts + 1, next_attempt_at = $3::timestamptz
    FROM target AS t
    WHERE e.id = t.id
    RETURNING e.id, e.publisher_id AS "publisherId", e.operator_id AS "operatorId", e.payload, e.attempts,
              t.webhook_url AS "webhookUrl", t.webhook_secrets AS "webhookSecrets"`,
  };
}

/** Production claims every recipient's events; tests name theirs. Two statements, so each keeps its own plan. */
const CLAIM_ANY = claimStatement('outbox_claim_due', '');
const CLAIM_SCOPED = claimStatement(
  'outbox_claim_due_scoped',
  'AND (publisher_id = ANY($4::text[]) OR operator_id = ANY($5::text[]))',
);

/**
 * Takes up to `limit` due events for one dispatcher. One statement both locks
 * (SKIP LOCKED, so concurrent dispatchers split the work) and pushes
 * next_attempt_at to `leaseUntil`, so no other process sends the same attempt
 * while this one is at it; if this process dies, the event is due again once
 * the lease runs out.
 */
export async function claimDueEvents(sql: Sql, scope: ClaimScope): Promise<ClaimedEventRecord[]> {
  const head = [scope.now, scope.limit, scope.leaseUntil];
  if (!scope.publisherIds && !scope.operatorIds) return sql.rows<ClaimedEventRecord>(CLAIM_ANY, head);
  return sql.rows<ClaimedEventRecord>(CLAIM_SCOPED, [
    ...head,
    [...(scope.publisherIds ?? [])],
    [...(scope.operatorIds ?? [])],
  ]);
}

/** One delivery attempt as webhook_attempts keeps it. */
export interface WebhookAttemptRecord {
  attemptedAt: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** What an attempt does to its event, as the domain decided it. */
export type EventFate =
  { kind: 'delivered'; at: Date } | { kind: 'retry'; nextAttemptAt: Date } | { kind: 'failed'; at: Date };

const SAVE_ATTEMPT: Statement = {
  name: 'outbox_save_attempt',
  text: `WITH attempt AS (
      INSERT INTO webhook_attempts (event_id, attempted_at, status_code, error, duration_ms)
      VALUES ($1::text, $3::timestamptz, $4::int, $5::text, $6::int)
    )
    UPDATE outbox_events SET
      delivered_at = CASE WHEN $7::text = 'delivered' THEN $8::timestamptz ELSE delivered_at END,
      failed_at = CASE WHEN $7::text = 'failed' THEN $8::timestamptz ELSE failed_at END,
      next_attempt_at = CASE WHEN $7::text = 'retry' THEN $8::timestamptz ELSE next_attempt_at END
    WHERE id = $1::text AND delivered_at IS NULL
      AND ($7::text = 'delivered' OR (attempts = $2::int AND failed_at IS NULL))`,
};

/**
 * Records one attempt and its event's fate in one statement. Delivery wins
 * over any claim; a retry or a failure only applies to the claim that made it
 * (`attempts` unchanged), so a claim whose lease ran out and was taken again
 * only adds its attempt row and leaves the schedule to the newer claim.
 */
export async function saveAttempt(
  sql: Sql,
  event: { id: string; attempts: number },
  attempt: WebhookAttemptRecord,
  fate: EventFate,
): Promise<void> {
  await sql.rows(SAVE_ATTEMPT, [
    event.id,
    event.attempts,
    attempt.attemptedAt,
    attempt.statusCode,
    attempt.error,
    attempt.durationMs,
    fate.kind,
    fate.kind === 'retry' ? fate.nextAttemptAt : fate.at,
  ]);
}

const SKIP_EVENT: Statement = {
  name: 'outbox_skip_event',
  text: `UPDATE outbox_events SET skipped_at = $3::timestamptz
    WHERE id = $1::text AND attempts = $2::int AND delivered_at IS NULL AND failed_at IS NULL`,
};

/**
 * Marks a claimed event skipped: its recipient has nowhere to receive it. No
 * attempt is recorded, since none was made; the claim's fencing applies as in
 * saveAttempt.
 */
export async function skipEvent(sql: Sql, event: { id: string; attempts: number }, at: Date): Promise<void> {
  await sql.rows(SKIP_EVENT, [event.id, event.attempts, at]);
}

/** An outbox event as its recipient may list it, with every attempt in order. */
export interface WebhookEventRecord {
  id: string;
  type: string;
  payload: unknown;
  createdAt: Date;
  deliveredAt: Date | null;
  failedAt: Date | null;
  skippedAt: Date | null;
  nextAttemptAt: Date;
  attempts: WebhookAttemptRecord[];
}

export type WebhookEventState = 'pending' | 'delivered' | 'failed' | 'skipped';
