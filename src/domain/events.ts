import { newId } from '../ids.js';
import { insertEvent, type Recipient } from '../store/outbox.js';
import type { OutboxEvent } from '../store/purchases.js';
import type { Sql } from '../store/sql.js';

export type EventType =
  | 'purchase.confirmed'
  | 'purchase.refunded'
  | 'purchase.charged_back'
  | 'subscription.activated'
  | 'subscription.renewed'
  | 'subscription.past_due'
  | 'subscription.canceled'
  | 'dispute.opened'
  | 'dispute.closed';

/** Events for operators: receipts and spend reminders they pass on to their subscribers. */
export type OperatorEventType =
  'operator.purchase.confirmed' | 'operator.spend.threshold' | 'operator.subscription.renewed';

/** A webhook event as the outbox keeps it: the whole body the recipient will receive, under a time-ordered id. */
export function webhookEvent(
  type: EventType | OperatorEventType,
  data: Record<string, unknown>,
  now: Date,
): OutboxEvent {
  const id = newId('evt', now.getTime());
  return { id, type, payload: { id, type, createdAt: now.toISOString(), data }, createdAt: now };
}

/**
 * Writes a webhook event to the outbox, inside the caller's transaction: the
 * event exists if and only if the state change it reports was committed.
 */
export async function recordEvent(
  sql: Sql,
  publisherId: string,
  type: EventType,
  data: Record<string, unknown>,
  now: Date = new Date(),
): Promise<string> {
  return recordEventFor(sql, { publisherId }, type, data, now);
}

export async function recordEventFor(
  sql: Sql,
  recipient: Recipient,
  type: EventType | OperatorEventType,
  data: Record<string, unknown>,
  now: Date = new Date(),
): Promise<string> {
  const event = webhookEvent(type, data, now);
  await insertEvent(sql, recipient, event);
  return event.id;
}
