import type { Tx } from '../store/db.js';
import { newId } from '../ids.js';
import type { Prisma } from '../generated/prisma/client.js';

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

/** Who an outbox event goes to: each event has exactly one recipient. */
export type Recipient = { publisherId: string } | { operatorId: string };

/**
 * Writes a webhook event to the outbox, inside the caller's transaction: the
 * event exists if and only if the state change it reports was committed.
 */
export async function recordEvent(
  tx: Tx,
  publisherId: string,
  type: EventType,
  data: Record<string, unknown>,
  now: Date = new Date(),
): Promise<string> {
  return recordEventFor(tx, { publisherId }, type, data, now);
}

export async function recordEventFor(
  tx: Tx,
  recipient: Recipient,
  type: EventType | OperatorEventType,
  data: Record<string, unknown>,
  now: Date = new Date(),
): Promise<string> {
  const id = newId('evt', now.getTime());
  const payload = { id, type, createdAt: now.toISOString(), data } as Prisma.InputJsonValue;
  await tx.outboxEvent.create({ data: { id, ...recipient, type, payload, createdAt: now, nextAttemptAt: now } });
  return id;
}
