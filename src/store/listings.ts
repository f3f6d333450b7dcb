import { toPurchase } from './purchases.js';
import type { PurchaseRecord, PurchaseStatus, SubscriptionRecord, SubscriptionStatus } from './records.js';
import type { Sql, Statement } from './sql.js';
import { SUBSCRIPTION_COLUMNS, toSubscription, type SubscriptionRow } from './subscriptions.js';

/** Purchase columns as toPurchase reads them (numeric as text); the same list as the purchase path's. */
const PURCHASE_COLUMNS = `p.id, p.publisher_id AS "publisherId", p.subscriber_id AS "subscriberId",
  p.subscription_id AS "subscriptionId", p.subscription_period_start AS "subscriptionPeriodStart", p.kind,
  p.credits, p.amount::text AS amount, p.currency, p.description, p.channel, p.return_url AS "returnUrl", p.status,
  p.decline_code AS "declineCode", p.created_at AS "createdAt", p.expires_at AS "expiresAt",
  p.confirmed_at AS "confirmedAt", p.commission_rate::text AS "commissionRate",
  p.commission_amount::text AS "commissionAmount", p.refunded_amount::text AS "refundedAmount",
  p.charged_back_amount::text AS "chargedBackAmount", p.invoice_id AS "invoiceId", p.consent_ip AS "consentIp",
  p.consent_user_agent AS "consentUserAgent", p.consent_page_version AS "consentPageVersion",
  p.consent_assertion_id AS "consentAssertionId", p.vat_rate::text AS "vatRate"`;

/** A listing page: up to `take` rows with ids below `before`, newest first (ids are time-ordered). */
export interface ListingQuery<S> {
  take: number;
  before: string | null;
  /** The status as the API shows it: a pending offer past its expiry (at `now`) shows as expired. */
  status: S | null;
  now: Date;
}

type Shown = 'any' | 'pending' | 'expired' | 'stored';

function shown(status: string | null): Shown {
  if (status === null) return 'any';
  return status === 'pending' || status === 'expired' ? status : 'stored';
}

/**
 * One prepared statement per kind of status filter, so each keeps a plan that
 * walks the (publisher_id, id) index. $1 publisher, $2 cursor, $3 limit, $4 now
 * or the stored status.
 */
function listing(table: 'purchases' | 'subscriptions', alias: string, columns: string): Record<Shown, Statement> {
  const head = `SELECT ${columns} FROM ${table} ${alias}
    WHERE ${alias}.publisher_id = $1::text AND ($2::text IS NULL OR ${alias}.id < $2::text)`;
  const tail = `ORDER BY ${alias}.id DESC LIMIT $3::int`;
  const name = `list_publisher_${table}`;
  return {
    any: { name: `${name}_any`, text: `${head} ${tail}` },
    pending: {
      name: `${name}_pending`,
      text: `${head} AND ${alias}.status = 'pending' AND ${alias}.expires_at > $4::timestamptz ${tail}`,
    },
    expired: {
      name: `${name}_expired`,
      text: `${head} AND (${alias}.status = 'expired'
        OR (${alias}.status = 'pending' AND ${alias}.expires_at <= $4::timestamptz)) ${tail}`,
    },
    stored: { name: `${name}_stored`, text: `${head} AND ${alias}.status = $4::text ${tail}` },
  };
}

const PURCHASE_LISTING = listing('purchases', 'p', PURCHASE_COLUMNS);
const SUBSCRIPTION_LISTING = listing('subscriptions', 'sub', SUBSCRIPTION_COLUMNS);

function values(publisherId: string, query: ListingQuery<string>): unknown[] {
  const head = [publisherId, query.before, query.take];
  const kind = shown(query.status);
  if (kind === 'any') return head;
  return [...head, kind === 'stored' ? query.status : query.now];
}

export async function publisherPurchases(
  sql: Sql,
  publisherId: string,
  query: ListingQuery<PurchaseStatus>,
): Promise<PurchaseRecord[]> {
  const rows = await sql.rows<Parameters<typeof toPurchase>[0]>(
    PURCHASE_LISTING[shown(query.status)],
    values(publisherId, query),
  );
  return rows.map(toPurchase);
}

export async function publisherSubscriptions(
  sql: Sql,
  publisherId: string,
  query: ListingQuery<SubscriptionStatus>,
): Promise<SubscriptionRecord[]> {
  const rows = await sql.rows<SubscriptionRow>(SUBSCRIPTION_LISTING[shown(query.status)], values(publisherId, query));
  return rows.map(toSubscription);
}

const SUBSCRIBER_SUBSCRIPTIONS: Statement = {
  name: 'list_subscriber_subscriptions',
  text: `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions sub
    WHERE sub.subscriber_id = $1::text AND ($2::text IS NULL OR sub.id < $2::text)
    ORDER BY sub.id DESC LIMIT $3::int`,
};

/** Up to `take` of a subscriber's own subscriptions with ids below `before`, newest first. */
export async function subscriberSubscriptions(
  sql: Sql,
  subscriberId: string,
  query: { take: number; before: string | null },
): Promise<SubscriptionRecord[]> {
  const rows = await sql.rows<SubscriptionRow>(SUBSCRIBER_SUBSCRIPTIONS, [subscriberId, query.before, query.take]);
  return rows.map(toSubscription);
}
