import type { Prisma, Purchase, Subscription } from '../generated/prisma/client.js';
import type { Db } from '../store/db.js';

export const PURCHASE_STATUSES = ['pending', 'confirmed', 'declined', 'expired', 'refunded', 'disputed'] as const;
export const SUBSCRIPTION_STATUSES = ['pending', 'active', 'past_due', 'canceled', 'declined', 'expired'] as const;

export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/**
 * A status as the API shows it, as a filter on the stored one: a pending
 * offer past its expiry reads as expired whether or not anything wrote it.
 */
type StatusFilter =
  | Record<string, never>
  | { status: string; expiresAt?: { gt: Date } }
  | { OR: [{ status: string }, { status: string; expiresAt: { lte: Date } }] };

function statusWhere(status: string | undefined, now: Date): StatusFilter {
  if (status === undefined) return {};
  if (status === 'pending') return { status: 'pending', expiresAt: { gt: now } };
  if (status === 'expired') return { OR: [{ status: 'expired' }, { status: 'pending', expiresAt: { lte: now } }] };
  return { status };
}

export interface ListPage<S> {
  limit: number;
  cursor?: string | undefined;
  status?: S | undefined;
}

/**
 * One page of a publisher's own purchases, newest first (ids are time-ordered);
 * one extra row tells whether more follow.
 */
export function listPublisherPurchases(
  db: Db,
  publisherId: string,
  page: ListPage<PurchaseStatus>,
  now = new Date(),
): Promise<Purchase[]> {
  const where: Prisma.PurchaseWhereInput = {
    publisherId,
    ...(page.cursor ? { id: { lt: page.cursor } } : {}),
    ...statusWhere(page.status, now),
  };
  return db.purchase.findMany({ where, orderBy: { id: 'desc' }, take: page.limit + 1 });
}

export function listPublisherSubscriptions(
  db: Db,
  publisherId: string,
  page: ListPage<SubscriptionStatus>,
  now = new Date(),
): Promise<Subscription[]> {
  const where: Prisma.SubscriptionWhereInput = {
    publisherId,
    ...(page.cursor ? { id: { lt: page.cursor } } : {}),
    ...statusWhere(page.status, now),
  };
  return db.subscription.findMany({ where, orderBy: { id: 'desc' }, take: page.limit + 1 });
}
