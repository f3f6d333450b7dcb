import { purchaseOffer, subscriptionOffer, type OfferSeller } from '../store/consent-offers.js';
import type { PurchaseRecord, SubscriptionRecord } from '../store/records.js';
import type { Sql } from '../store/sql.js';

/**
 * The purchase a consent page offers, with its seller. A subscription's period
 * purchase has no page of its own: its subscription's page is where consent is
 * given, so it is not found here.
 */
export async function purchaseOnOffer(
  sql: Sql,
  id: string,
): Promise<{ purchase: PurchaseRecord; seller: OfferSeller } | null> {
  const offer = await purchaseOffer(sql, id);
  return offer && !offer.purchase.subscriptionId ? offer : null;
}

/** The subscription a consent page offers, with its seller. */
export function subscriptionOnOffer(
  sql: Sql,
  id: string,
): Promise<{ subscription: SubscriptionRecord; seller: OfferSeller } | null> {
  return subscriptionOffer(sql, id);
}
