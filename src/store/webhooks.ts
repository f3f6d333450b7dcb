import { Prisma } from '../generated/prisma/client.js';
import type { Db } from './db.js';

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

function recipientScope(scope: Pick<ClaimScope, 'publisherIds' | 'operatorIds'>): Prisma.Sql {
  if (!scope.publisherIds && !scope.operatorIds) return Prisma.empty;
  return Prisma.sql`AND (publisher_id = ANY(${[...(scope.publisherIds ?? [])]}::text[])
    OR operator_id = ANY(${[...(scope.operatorIds ?? [])]}::text[]))`;
}

/**
 * Takes up to `limit` due events for one dispatcher. One statement both locks
 * (SKIP LOCKED, so concurrent dispatchers split the work) and pushes
 * next_attempt_at to `leaseUntil`, so no other process sends the same attempt
 * while this one is at it; if this process dies, the event is due again once
 * the lease runs out.
 */
export async function claimDueEvents(db: Db, scope: ClaimScope): Promise<ClaimedEventRecord[]> {
  return db.$queryRaw<ClaimedEventRecord[]>`
    WITH due AS (
      SELECT id FROM outbox_events
      WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ${scope.now} ${recipientScope(scope)}
      ORDER BY next_attempt_at
      LIMIT ${scope.limit}
      FOR UPDATE SKIP LOCKED
    ),
    target AS (
      SELECT due.id,
             COALESCE(p.webhook_url, o.webhook_url) AS webhook_url,
             array_remove(ARRAY[
               COALESCE(p.webhook_secret, o.webhook_secret),
               CASE WHEN p.previous_webhook_secret_expires_at > ${scope.now} THEN p.previous_webhook_secret END
             ], NULL) AS webhook_secrets
      FROM due
      JOIN outbox_events x ON x.id = due.id
      LEFT JOIN publishers p ON p.id = x.publisher_id
      LEFT JOIN operators o ON o.id = x.operator_id
    )
    UPDATE outbox_events AS e
    SET attempts = e.attempts + 1, next_attempt_at = ${scope.leaseUntil}
    FROM target AS t
    WHERE e.id = t.id
    RETURNING e.id, e.publisher_id AS "publisherId", e.operator_id AS "operatorId", e.payload, e.attempts,
              t.webhook_url AS "webhookUrl", t.webhook_secrets AS "webhookSecrets"`;
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

/**
 * Records one attempt and its event's fate in one transaction. Delivery wins
 * over any claim; a retry or a failure only applies to the claim that made it
 * (`attempts` unchanged), so a claim whose lease ran out and was taken again
 * only adds its attempt row and leaves the schedule to the newer claim.
 */
export async function saveAttempt(
  db: Db,
  event: { id: string; attempts: number },
  attempt: WebhookAttemptRecord,
  fate: EventFate,
): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.webhookAttempt.create({ data: { eventId: event.id, ...attempt } });
    if (fate.kind === 'delivered') {
      await tx.outboxEvent.updateMany({ where: { id: event.id, deliveredAt: null }, data: { deliveredAt: fate.at } });
      return;
    }
    await tx.outboxEvent.updateMany({
      where: { id: event.id, attempts: event.attempts, deliveredAt: null, failedAt: null },
      data: fate.kind === 'failed' ? { failedAt: fate.at } : { nextAttemptAt: fate.nextAttemptAt },
    });
  });
}

/** An outbox event as its recipient may list it, with every attempt in order. */
export interface WebhookEventRecord {
  id: string;
  type: string;
  payload: unknown;
  createdAt: Date;
  deliveredAt: Date | null;
  failedAt: Date | null;
  nextAttemptAt: Date;
  attempts: WebhookAttemptRecord[];
}

export type WebhookEventState = 'pending' | 'delivered' | 'failed';

const BY_STATE = {
  pending: { deliveredAt: null, failedAt: null },
  delivered: { deliveredAt: { not: null } },
  failed: { deliveredAt: null, failedAt: { not: null } },
} satisfies Record<WebhookEventState, Prisma.OutboxEventWhereInput>;

/** Up to `take` of a publisher's events older than `before`, newest first (ids are time-ordered). */
export async function publisherEvents(
  db: Db,
  publisherId: string,
  query: { take: number; before?: string | undefined; state?: WebhookEventState | undefined },
): Promise<WebhookEventRecord[]> {
  const rows = await db.outboxEvent.findMany({
    where: {
      publisherId,
      ...(query.before ? { id: { lt: query.before } } : {}),
      ...(query.state ? BY_STATE[query.state] : {}),
    },
    orderBy: { id: 'desc' },
    take: query.take,
    include: { deliveries: { orderBy: { id: 'asc' } } },
  });
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    payload: row.payload,
    createdAt: row.createdAt,
    deliveredAt: row.deliveredAt,
    failedAt: row.failedAt,
    nextAttemptAt: row.nextAttemptAt,
    attempts: row.deliveries.map((a) => ({
      attemptedAt: a.attemptedAt,
      statusCode: a.statusCode,
      error: a.error,
      durationMs: a.durationMs,
    })),
  }));
}
