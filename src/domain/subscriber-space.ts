import type { SubscriptionRecord } from '../store/records.js';
import type { Sql } from '../store/sql.js';
import {
  invoiceNumbers,
  publisherNames,
  purchasesWithSeller,
  subscriptionsWithSeller,
  type SoldPurchase,
} from '../store/subscriber-space.js';
import { childrenOf } from '../store/subscribers.js';
import type { Subscriber } from './subscribers.js';

/*
 * What the subscriber space (/me) and the parent space (/me/children) read
 * beside the /v1 lists: who sold each purchase and subscription, which invoice
 * billed it, and the household's children.
 */

/** A subscriber's latest `take` purchases, newest first, with their seller's name and the invoice that billed each. */
export function recentPurchases(sql: Sql, subscriberId: string, take: number): Promise<SoldPurchase[]> {
  return purchasesWithSeller(sql, subscriberId, take);
}

/** A subscriber's latest `take` subscriptions, newest first, with their seller's name. */
export function recentSubscriptions(
  sql: Sql,
  subscriberId: string,
  take: number,
): Promise<{ subscription: SubscriptionRecord; publisherName: string }[]> {
  return subscriptionsWithSeller(sql, subscriberId, take);
}

/** The names of the publishers who sold these disputed purchases, by id. */
export function sellersOf(
  sql: Sql,
  disputes: readonly { purchase: { publisherId: string } }[],
): Promise<Map<string, string>> {
  return publisherNames(sql, [...new Set(disputes.map((d) => d.purchase.publisherId))]);
}

/** The numbers of the invoices these credit notes correct, by id: a credit note names the invoice it corrects. */
export function correctedInvoiceNumbers(
  sql: Sql,
  subscriberId: string,
  documents: readonly { correctsInvoiceId: string | null }[],
): Promise<Map<string, string>> {
  const corrected = new Set(documents.flatMap((d) => (d.correctsInvoiceId === null ? [] : [d.correctsInvoiceId])));
  return invoiceNumbers(sql, subscriberId, [...corrected]);
}

/** A holder's children, oldest first: the order the parent space lists them in. A child holds no household. */
export async function householdChildren(
  sql: Sql,
  subscriber: Pick<Subscriber, 'id' | 'holderId'>,
): Promise<Subscriber[]> {
  return subscriber.holderId === null ? childrenOf(sql, subscriber.id) : [];
}
