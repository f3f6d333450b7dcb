import { PURCHASE_COLUMNS, toPurchase } from './purchases.js';
import type { PurchaseStatus, SubscriptionStatus } from '../shared/catalogue.js';
import type { PurchaseRecord, SubscriptionRecord } from './records.js';
import type { Sql, Statement } from './sql.js';
import { SUBSCRIPTION_COLUMNS, toSubscription, type SubscriptionRow } from './subscriptions.js';

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

const SUBSCRIBER_PURCHASES: Statement = {
  name: 'list_subscriber_purchases',
  text: `SELECT ${PURCHASE_COLUMNS} FROM purchases p
    WHERE p.subscriber_id = $1::text AND ($2::text IS NULL OR p.id < $2::text)
    ORDER BY p.id DESC LIMIT $3::int`,
};

/** Up to `take` of a subscriber's own purchases with ids below `before`, newest first. */
export async function subscriberPurchases(
  sql: Sql,
  subscriberId: string,
  query: { take: number; before: string | null },
): Promise<PurchaseRecord[]> {
  const rows = await sql.rows<Parameters<typeof toPurchase>[0]>(SUBSCRIBER_PURCHASES, [
    subscriberId,
    query.before,
    query.take,
  ]);
  return rows.map(toPurchase);
}
