import { PURCHASE_COLUMNS, toPurchase } from './purchases.js';
import type { PurchaseRecord, SubscriptionRecord } from './records.js';
import type { Sql, Statement } from './sql.js';
import { SUBSCRIPTION_COLUMNS, toSubscription, type SubscriptionRow } from './subscriptions.js';

/** The seller as a consent page names it, and whether it may still sell. */
export interface OfferSeller {
  name: string;
  legalName: string | null;
  supportUrl: string | null;
  category: string;
  suspendedAt: Date | null;
}

const SELLER_COLUMNS = `pub.name AS "sellerName", pub.legal_name AS "sellerLegalName",
  pub.support_url AS "sellerSupportUrl", pub.category AS "sellerCategory", pub.suspended_at AS "sellerSuspendedAt"`;

interface SellerRow {
  sellerName: string;
  sellerLegalName: string | null;
  sellerSupportUrl: string | null;
  sellerCategory: string;
  sellerSuspendedAt: Date | null;
}

function toSeller(row: SellerRow): OfferSeller {
  return {
    name: row.sellerName,
    legalName: row.sellerLegalName,
    supportUrl: row.sellerSupportUrl,
    category: row.sellerCategory,
    suspendedAt: row.sellerSuspendedAt,
  };
}

const PURCHASE_OFFER: Statement = {
  name: 'consent_purchase_offer',
  text: `SELECT ${PURCHASE_COLUMNS}, ${SELLER_COLUMNS}
    FROM purchases p JOIN publishers pub ON pub.id = p.publisher_id WHERE p.id = $1::text`,
};

export async function purchaseOffer(
  sql: Sql,
  id: string,
): Promise<{ purchase: PurchaseRecord; seller: OfferSeller } | null> {
  const [row] = await sql.rows<Parameters<typeof toPurchase>[0] & SellerRow>(PURCHASE_OFFER, [id]);
  return row ? { purchase: toPurchase(row), seller: toSeller(row) } : null;
}

const SUBSCRIPTION_OFFER: Statement = {
  name: 'consent_subscription_offer',
  text: `SELECT ${SUBSCRIPTION_COLUMNS}, ${SELLER_COLUMNS}
    FROM subscriptions sub JOIN publishers pub ON pub.id = sub.publisher_id WHERE sub.id = $1::text`,
};

export async function subscriptionOffer(
  sql: Sql,
  id: string,
): Promise<{ subscription: SubscriptionRecord; seller: OfferSeller } | null> {
  const [row] = await sql.rows<SubscriptionRow & SellerRow>(SUBSCRIPTION_OFFER, [id]);
  return row ? { subscription: toSubscription(row), seller: toSeller(row) } : null;
}
