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
  const id = newId('evt', now.getTime());
  const payload = { id, type, createdAt: now.toISOString(), data } as Prisma.InputJsonValue;
  await tx.outboxEvent.create({ data: { id, publisherId, type, payload, createdAt: now, nextAttemptAt: now } });
  return id;
}
