import { insertOperatorEvent } from '../store/outbox.js';
import type { Sql } from '../store/sql.js';
import { operatorEventsFor, type ConfirmedCharge } from './operator-events.js';
import type { LockedSubscriberRecord as LockedSubscriber, PurchaseRecord as Purchase } from '../store/records.js';
import { webhookEvent } from './events.js';
import { spentBy } from './spending.js';

/**
 * Queues the operator's events for a charge just written, in the caller's
 * transaction (so they exist if and only if the charge does). Called once at
 * the end of each confirmation path: a purchase, a subscription's first
 * period, a renewal. An operator with no webhook URL gets nothing queued and
 * costs the confirmation no round trip.
 */
export async function notifyOperatorOfCharge(
  sql: Sql,
  subscriber: LockedSubscriber,
  purchase: Purchase,
  publisherName: string,
  now: Date,
  renewal?: ConfirmedCharge['renewal'],
): Promise<void> {
  if (!subscriber.operator.notified) return;
  // Read after the charge, in the same transaction: the month's spending includes it.
  const { month } = await spentBy(sql, subscriber.id, now);
  const events = operatorEventsFor({
    subscriberRef: subscriber.externalRef,
    purchaseId: purchase.id,
    publisherName,
    description: purchase.description,
    amount: purchase.amount,
    confirmedAt: purchase.confirmedAt ?? now,
    monthSpentBefore: month.minus(purchase.amount),
    monthSpentAfter: month,
    ...(renewal ? { renewal } : {}),
  });
  for (const event of events) {
    await insertOperatorEvent(sql, subscriber.operatorId, webhookEvent(event.type, event.data, now));
  }
}
