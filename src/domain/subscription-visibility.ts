import type { SubscriptionRecord } from '../store/records.js';
import type { Sql } from '../store/sql.js';
import { findSubscription } from '../store/subscriptions.js';
import { notFound } from './errors.js';

export type SubscriptionViewer =
  { kind: 'publisher'; publisherId: string } | { kind: 'subscriber'; subscriberId: string };

/** Its publisher, its subscriber, and (while unclaimed and pending) any subscriber holding the consent link. */
export function canSee(
  subscription: Pick<SubscriptionRecord, 'publisherId' | 'subscriberId' | 'status'>,
  viewer: SubscriptionViewer,
): boolean {
  if (viewer.kind === 'publisher') return subscription.publisherId === viewer.publisherId;
  return (
    subscription.subscriberId === viewer.subscriberId ||
    (subscription.subscriberId === null && subscription.status === 'pending')
  );
}

/** The subscription, to a viewer who may see it; anyone else is told it does not exist. */
export async function subscriptionSeenBy(
  sql: Sql,
  id: string,
  viewer: SubscriptionViewer,
): Promise<SubscriptionRecord> {
  const subscription = await findSubscription(sql, id);
  if (!subscription || !canSee(subscription, viewer)) throw notFound('Subscription');
  return subscription;
}
