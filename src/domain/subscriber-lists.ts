import { subscriberPurchases, subscriberSubscriptions } from '../store/listings.js';
import type { PurchaseRecord, SubscriptionRecord } from '../store/records.js';
import type { Database } from '../store/database.js';

/** A page of what one subscriber sees of its own: newest first (ids are time-ordered), one extra row for "more". */
export interface SubscriberPage {
  limit: number;
  cursor?: string | undefined;
}

export function listSubscriberPurchases(
  database: Database,
  subscriberId: string,
  page: SubscriberPage,
): Promise<PurchaseRecord[]> {
  return subscriberPurchases(database, subscriberId, { take: page.limit + 1, before: page.cursor ?? null });
}

export function listSubscriberSubscriptions(
  database: Database,
  subscriberId: string,
  page: SubscriberPage,
): Promise<SubscriptionRecord[]> {
  return subscriberSubscriptions(database, subscriberId, { take: page.limit + 1, before: page.cursor ?? null });
}
