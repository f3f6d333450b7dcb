import { countWebhookAttempt } from '../observability/metrics.js';
import {
  claimDueEvents as claimDueEventRows,
  saveAttempt,
  skipEvent,
  type ClaimedEventRecord,
  type EventFate,
  type WebhookAttemptRecord,
} from '../store/webhooks.js';
import type { Sql } from '../store/sql.js';
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

export type ClaimedEvent = ClaimedEventRecord;

export interface ClaimOptions {
  now: Date;
  limit: number;
  leaseMs: number;
  /** Restricts the claim to these publishers' and operators' events; unset in production. */
  publisherIds?: readonly string[];
  operatorIds?: readonly string[];
}

/**
 * Takes up to `limit` due events for this dispatcher, each leased for
 * `leaseMs`. PostgreSQL alone decides what is due: nothing is lost with Redis.
 */
export async function claimDueEvents(db: Sql, options: ClaimOptions): Promise<ClaimedEvent[]> {
  const { leaseMs, ...scope } = options;
  return claimDueEventRows(db, { ...scope, leaseUntil: new Date(options.now.getTime() + leaseMs) });
}

function delivered(outcome: SendResult): boolean {
  return 'statusCode' in outcome && outcome.statusCode >= 200 && outcome.statusCode < 300;
}

/** The attempt row an outcome leaves: the error is cut short so a huge one cannot bloat the table. */
export function attemptRecord(outcome: SendResult, attemptedAt: Date): WebhookAttemptRecord {
  return {
    attemptedAt,
    statusCode: 'statusCode' in outcome ? outcome.statusCode : null,
    error: 'error' in outcome ? outcome.error.slice(0, 500) : null,
    durationMs: outcome.durationMs,
  };
}

/**
 * What one attempt means for its event: 2xx delivers; anything else schedules
 * the next attempt, or fails the event once the schedule is spent or when
 * retrying cannot help.
 */
export function eventFate(
  outcome: SendResult,
  attemptsMade: number,
  finishedAt: Date,
  schedule: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
): EventFate {
  if (delivered(outcome)) return { kind: 'delivered', at: finishedAt };
  const delayMs = retryDelayMs(attemptsMade, schedule);
  if (delayMs === null) return { kind: 'failed', at: finishedAt };
  return { kind: 'retry', nextAttemptAt: new Date(finishedAt.getTime() + delayMs) };
}

/**
 * Records one attempt and what it means for the event, in one transaction. A
 * claim whose lease ran out and was taken again (attempts moved on) only adds
 * its attempt row and leaves the schedule to the newer claim.
 */
export async function recordAttempt(
  db: Sql,
  event: Pick<ClaimedEvent, 'id' | 'attempts'>,
  outcome: SendResult,
  attemptedAt: Date,
  finishedAt: Date,
  schedule: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
): Promise<void> {
  await saveAttempt(
    db,
    event,
    attemptRecord(outcome, attemptedAt),
    eventFate(outcome, event.attempts, finishedAt, schedule),
  );
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
async function attempt(
  event: ClaimedEvent & { webhookUrl: string },
  options: DispatchOptions,
  now: () => Date,
): Promise<SendResult> {
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
export async function dispatchDueWebhooks(db: Sql, options: DispatchOptions): Promise<number> {
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
      // Nowhere to send it: the event stays in the publisher's list as skipped, no attempt is made or
      // counted, and it is not polled for the 27 hours of the retry schedule.
      if (!event.webhookUrl || event.webhookSecrets.length === 0) return skipEvent(db, event, attemptedAt);
      const outcome = await attempt({ ...event, webhookUrl: event.webhookUrl }, options, now);
      countWebhookAttempt(outcome);
      await recordAttempt(db, event, outcome, attemptedAt, now(), options.retryDelaysMs);
    }),
  );
  const failure = recorded.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  // An attempt that could not be recorded leaves its event leased; it is due again when the lease ends.
  if (failure) throw failure.reason;
  return events.length;
}
