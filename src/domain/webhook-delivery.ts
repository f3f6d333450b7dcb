import { Prisma } from '../generated/prisma/client.js';
import { countWebhookAttempt } from '../observability/metrics.js';
import type { Db } from '../store/db.js';
import { sendWebhook, type SendResult } from './webhook-sender.js';
import { webhookHeaders } from './webhook-signing.js';
import { webhookUrlProblem, type Resolver } from './webhook-url.js';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * Wait before each retry: the first attempt is immediate, then one retry per
 * entry. Spans 27 h 35 min, so a publisher down for a whole day still gets
 * every event once it is back.
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [
  5 * SECOND_MS,
  5 * MINUTE_MS,
  30 * MINUTE_MS,
  2 * HOUR_MS,
  5 * HOUR_MS,
  10 * HOUR_MS,
  10 * HOUR_MS,
];

/** How long a claimed event stays invisible to other dispatchers; past it, a worker that died mid-send is presumed dead. */
export const DEFAULT_LEASE_MS = 60 * SECOND_MS;
export const DEFAULT_TIMEOUT_MS = 10 * SECOND_MS;
export const DEFAULT_BATCH_SIZE = 25;

/** Delay before the next attempt once `attemptsMade` attempts failed, or null when it is time to give up. */
export function retryDelayMs(
  attemptsMade: number,
  schedule: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
): number | null {
  return schedule[attemptsMade - 1] ?? null;
}

export interface ClaimedEvent {
  id: string;
  /** The recipient: one of the two is set. */
  publisherId: string | null;
  operatorId: string | null;
  payload: Prisma.JsonValue;
  /** Attempts counted so far, this one included: the claim's fencing token. */
  attempts: number;
  webhookUrl: string | null;
  /** The recipient's current secret, then a rotated-out one still within its overlap; each signs the delivery. */
  webhookSecrets: string[];
}

export interface ClaimOptions {
  now: Date;
  limit: number;
  leaseMs: number;
  /** Restricts the claim to these publishers' and operators' events; unset in production. */
  publisherIds?: readonly string[];
  operatorIds?: readonly string[];
}

function recipientScope(options: Pick<ClaimOptions, 'publisherIds' | 'operatorIds'>): Prisma.Sql {
  if (!options.publisherIds && !options.operatorIds) return Prisma.empty;
  return Prisma.sql`AND (publisher_id = ANY(${[...(options.publisherIds ?? [])]}::text[])
    OR operator_id = ANY(${[...(options.operatorIds ?? [])]}::text[]))`;
}

/**
 * Takes up to `limit` due events for this dispatcher. One statement both locks
 * (SKIP LOCKED, so concurrent dispatchers split the work) and pushes
 * next_attempt_at past the lease, so no other process sends the same attempt
 * while this one is at it; if this process dies, the event is due again once
 * the lease runs out. PostgreSQL alone decides what is due: nothing is lost
 * with Redis.
 */
export async function claimDueEvents(db: Db, options: ClaimOptions): Promise<ClaimedEvent[]> {
  const leaseUntil = new Date(options.now.getTime() + options.leaseMs);
  return db.$queryRaw<ClaimedEvent[]>`
    WITH due AS (
      SELECT id FROM outbox_events
      WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ${options.now} ${recipientScope(options)}
      ORDER BY next_attempt_at
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    ),
    target AS (
      SELECT due.id,
             COALESCE(p.webhook_url, o.webhook_url) AS webhook_url,
             array_remove(ARRAY[
               COALESCE(p.webhook_secret, o.webhook_secret),
               CASE WHEN p.previous_webhook_secret_expires_at > ${options.now} THEN p.previous_webhook_secret END
             ], NULL) AS webhook_secrets
      FROM due
      JOIN outbox_events x ON x.id = due.id
      LEFT JOIN publishers p ON p.id = x.publisher_id
      LEFT JOIN operators o ON o.id = x.operator_id
    )
    UPDATE outbox_events AS e
    SET attempts = e.attempts + 1, next_attempt_at = ${leaseUntil}
    FROM target AS t
    WHERE e.id = t.id
    RETURNING e.id, e.publisher_id AS "publisherId", e.operator_id AS "operatorId", e.payload, e.attempts,
              t.webhook_url AS "webhookUrl", t.webhook_secrets AS "webhookSecrets"`;
}

export type AttemptOutcome = SendResult & {
  /** True when retrying cannot help (nowhere to send): the event fails at once. */
  final?: boolean;
};

function delivered(outcome: AttemptOutcome): boolean {
  return 'statusCode' in outcome && outcome.statusCode >= 200 && outcome.statusCode < 300;
}

/**
 * Records one attempt and what it means for the event, in one transaction:
 * 2xx delivers; anything else schedules the next attempt, or fails the event
 * once the schedule is spent. A claim whose lease ran out and was taken again
 * (attempts moved on) only adds its attempt row and leaves the schedule to
 * the newer claim.
 */
export async function recordAttempt(
  db: Db,
  event: Pick<ClaimedEvent, 'id' | 'attempts'>,
  outcome: AttemptOutcome,
  attemptedAt: Date,
  finishedAt: Date,
  schedule: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.webhookAttempt.create({
      data: {
        eventId: event.id,
        attemptedAt,
        statusCode: 'statusCode' in outcome ? outcome.statusCode : null,
        error: 'error' in outcome ? outcome.error.slice(0, 500) : null,
        durationMs: outcome.durationMs,
      },
    });
    if (delivered(outcome)) {
      await tx.outboxEvent.updateMany({
        where: { id: event.id, deliveredAt: null },
        data: { deliveredAt: finishedAt },
      });
      return;
    }
    const delayMs = outcome.final ? null : retryDelayMs(event.attempts, schedule);
    await tx.outboxEvent.updateMany({
      where: { id: event.id, attempts: event.attempts, deliveredAt: null, failedAt: null },
      data: delayMs === null ? { failedAt: finishedAt } : { nextAttemptAt: new Date(finishedAt.getTime() + delayMs) },
    });
  });
}

export interface DispatchOptions {
  allowPrivateNetworks: boolean;
  now?: () => Date;
  retryDelaysMs?: readonly number[];
  leaseMs?: number;
  timeoutMs?: number;
  batchSize?: number;
  publisherIds?: readonly string[];
  operatorIds?: readonly string[];
  resolver?: Resolver;
}

/** One attempt at one event: checks where it goes, signs, sends. Never throws: every failure is an outcome to record. */
async function attempt(event: ClaimedEvent, options: DispatchOptions, now: () => Date): Promise<AttemptOutcome> {
  // No endpoint, nothing to retry against: the event stays in the outbox as a
  // record the publisher can list, failed at once rather than polled for 27 hours.
  if (!event.webhookUrl || event.webhookSecrets.length === 0) {
    return { error: `${event.operatorId ? 'operator' : 'publisher'} has no webhookUrl`, durationMs: 0, final: true };
  }
  const problem = await webhookUrlProblem(event.webhookUrl, options.allowPrivateNetworks, options.resolver);
  if (problem) return { error: `refused: webhookUrl ${problem}`, durationMs: 0 };
  try {
    const body = JSON.stringify(event.payload);
    const headers = webhookHeaders(event.webhookSecrets, event.id, body, now());
    return await sendWebhook(event.webhookUrl, body, headers, {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      allowPrivateNetworks: options.allowPrivateNetworks,
    });
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), durationMs: 0 };
  }
}

/**
 * Claims one batch of due events and delivers them concurrently, each attempt
 * recorded. Returns how many events were attempted, so a caller can go on
 * while batches come back full.
 */
export async function dispatchDueWebhooks(db: Db, options: DispatchOptions): Promise<number> {
  const now = options.now ?? (() => new Date());
  const events = await claimDueEvents(db, {
    now: now(),
    limit: options.batchSize ?? DEFAULT_BATCH_SIZE,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    ...(options.publisherIds ? { publisherIds: options.publisherIds } : {}),
    ...(options.operatorIds ? { operatorIds: options.operatorIds } : {}),
  });
  // Every send is awaited before a failure is reported, so none is still in flight when the caller stops.
  const recorded = await Promise.allSettled(
    events.map(async (event) => {
      const attemptedAt = now();
      const outcome = await attempt(event, options, now);
      countWebhookAttempt(outcome);
      await recordAttempt(db, event, outcome, attemptedAt, now(), options.retryDelaysMs);
    }),
  );
  const failure = recorded.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  // An attempt that could not be recorded leaves its event leased; it is due again when the lease ends.
  if (failure) throw failure.reason;
  return events.length;
}
