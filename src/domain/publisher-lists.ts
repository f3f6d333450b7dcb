import type { Database } from '../store/database.js';
import { publisherPurchases, publisherSubscriptions } from '../store/listings.js';
import type { PurchaseRecord, SubscriptionRecord } from '../store/records.js';

import type { PurchaseStatus, SubscriptionStatus } from '../shared/catalogue.js';

export interface ListPage<S> {
  limit: number;
  cursor?: string | undefined;
  /** As the API shows it: a pending offer past its expiry reads as expired whether or not anything wrote it. */
  status?: S | undefined;
}

/**
 * One page of a publisher's own purchases, newest first (ids are time-ordered);
 * one extra row tells whether more follow.
 */
export function listPublisherPurchases(
  database: Database,
  publisherId: string,
  page: ListPage<PurchaseStatus>,
  now = new Date(),
): Promise<PurchaseRecord[]> {
  return publisherPurchases(database, publisherId, {
    take: page.limit + 1,
    before: page.cursor ?? null,
    status: page.status ?? null,
    now,
  });
}

export function listPublisherSubscriptions(
  database: Database,
  publisherId: string,
  page: ListPage<SubscriptionStatus>,
  now = new Date(),
): Promise<SubscriptionRecord[]> {
  return publisherSubscriptions(database, publisherId, {
    take: page.limit + 1,
    before: page.cursor ?? null,
    status: page.status ?? null,
    now,
  });
}
