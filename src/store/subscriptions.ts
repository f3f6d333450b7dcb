import {
  SELLER_COLUMNS,
  lockSubscriberWith,
  lockSubscriberWithSql,
  spendingSql,
  spendingUnchangedSql,
  toClaimResult,
  toSeller,
  type ClaimResult,
  type ClaimRow,
  type SellerRow,
  type SpendingPeriods,
  type SpendingRecord,
} from './confirmation.js';
import type { OutboxEvent } from './purchases.js';
import {
  money,
  type LockedSubscriberRecord,
  type PurchaseRecord,
  type SellerRecord,
  type SubscriptionRecord,
} from './records.js';
import type { Sql, Statement } from './sql.js';

export const SUBSCRIPTION_COLUMNS = `sub.id, sub.publisher_id AS "publisherId", sub.subscriber_id AS "subscriberId", sub.plan,
  sub.amount::text AS amount, sub.currency, sub.description, sub.channel, sub.return_url AS "returnUrl", sub.status,
  sub.decline_code AS "declineCode", sub.created_at AS "createdAt", sub.expires_at AS "expiresAt",
  sub.activated_at AS "activatedAt", sub.current_period_start AS "currentPeriodStart",
  sub.current_period_end AS "currentPeriodEnd", sub.renewal_attempts AS "renewalAttempts",
  sub.next_attempt_at AS "nextAttemptAt", sub.canceled_at AS "canceledAt", sub.vat_rate::text AS "vatRate"`;

export type SubscriptionRow = Omit<SubscriptionRecord, 'amount' | 'vatRate'> & {
  amount: string;
  vatRate: string | null;
};

/** Field by field, as toPurchase: a statement may read the offer beside its subscriber or seller. */
export function toSubscription(row: SubscriptionRow): SubscriptionRecord {
  return {
    id: row.id,
    publisherId: row.publisherId,
    subscriberId: row.subscriberId,
    plan: row.plan,
    amount: money(row.amount),
    currency: row.currency,
    description: row.description,
    channel: row.channel,
    returnUrl: row.returnUrl,
    status: row.status,
    declineCode: row.declineCode,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    activatedAt: row.activatedAt,
    currentPeriodStart: row.currentPeriodStart,
    currentPeriodEnd: row.currentPeriodEnd,
    renewalAttempts: row.renewalAttempts,
    nextAttemptAt: row.nextAttemptAt,
    canceledAt: row.canceledAt,
    vatRate: money(row.vatRate),
  };
}

const LOCK_WITH_SELLER: Statement = {
  name: 'subscription_lock_with_seller',
  text: `SELECT ${SUBSCRIPTION_COLUMNS}, ${SELLER_COLUMNS}
    FROM subscriptions sub JOIN publishers pub ON pub.id = sub.publisher_id
    WHERE sub.id = $1::text
    FOR UPDATE OF sub`,
};

/**
 * Locks a subscription (its row as it is once the lock is granted) and reads
 * its seller in the same round trip; null when there is no such subscription.
 */
export async function lockSubscriptionWithSeller(
  sql: Sql,
  id: string,
): Promise<{ subscription: SubscriptionRecord; seller: SellerRecord } | null> {
  const [row] = await sql.rows<SubscriptionRow & SellerRow>(LOCK_WITH_SELLER, [id]);
  if (!row) return null;
  const subscription = toSubscription(row);
  return { subscription, seller: toSeller(subscription.publisherId, row) };
}

const LOCK_FOR_CONFIRMATION: Statement = {
  name: 'subscription_lock_for_confirmation',
  text: lockSubscriberWithSql('subscriptions', 'sub', SUBSCRIPTION_COLUMNS),
};

export interface SubscriptionConfirmationContext {
  subscriber: LockedSubscriberRecord;
  /** As the locking statement read it, unlocked: its claim is guarded (activateSubscription, declineSubscription). */
  subscription: SubscriptionRecord | null;
  seller: SellerRecord | null;
  /** From before any wait for the lock: the claim is guarded by them. */
  spentBeforeLock: SpendingRecord;
}

/**
 * Locks the subscriber and reads, in the same round trip, its controls and
 * limits, the offer, its seller and the running totals as the statement's
 * snapshot saw them, as a purchase's confirmation does. Null when there is
 * no such subscriber.
 */
export async function lockForSubscriptionConfirmation(
  sql: Sql,
  subscriberId: string,
  subscriptionId: string,
  periods: SpendingPeriods,
): Promise<SubscriptionConfirmationContext | null> {
  const locked = await lockSubscriberWith(
    sql,
    LOCK_FOR_CONFIRMATION,
    { subscriber: subscriberId, itemId: subscriptionId },
    periods,
    toSubscription,
  );
  if (!locked) return null;
  const { item, ...rest } = locked;
  return { ...rest, subscription: item };
}

/** The period purchase's values; its points take the two parameters from `pointsAt` on. */
const purchaseValuesSql = (
  pointsAt: number,
) => `$1::text, $2::text, $3::text, $4::text, $5::timestamptz, 'subscription', $6::numeric,
  $7::text, $8::text, $9::text, $10::text, 'confirmed', $11::timestamptz, $11::timestamptz, $11::timestamptz,
  $12::numeric, $13::numeric, $14::text, $15::text, $16::text, $17::text, $18::numeric, $${pointsAt}::int, $${pointsAt + 1}::numeric`;

const PURCHASE_INSERT_COLUMNS = `id, publisher_id, subscriber_id, subscription_id, subscription_period_start, kind,
  amount, currency, description, channel, return_url, status, created_at, expires_at, confirmed_at,
  commission_rate, commission_amount, consent_ip, consent_user_agent, consent_page_version, consent_assertion_id, vat_rate,
  points_earned, point_value`;

function purchaseValues(purchase: PurchaseRecord): unknown[] {
  return [
    purchase.id,
    purchase.publisherId,
    purchase.subscriberId,
    purchase.subscriptionId,
    purchase.subscriptionPeriodStart,
    purchase.amount.toFixed(2),
    purchase.currency,
    purchase.description,
    purchase.channel,
    purchase.returnUrl,
    purchase.confirmedAt,
    purchase.commissionRate?.toString() ?? null,
    purchase.commissionAmount?.toFixed(2) ?? null,
    purchase.consentIp,
    purchase.consentUserAgent,
    purchase.consentPageVersion,
    purchase.consentAssertionId,
    purchase.vatRate?.toString() ?? null,
  ];
}

function pointsValues(purchase: PurchaseRecord): unknown[] {
  return [purchase.pointsEarned, purchase.pointValue?.toFixed(2) ?? null];
}

const INSERT_PERIOD_PURCHASE: Statement = {
  name: 'subscription_period_purchase_insert',
  text: `INSERT INTO purchases (${PURCHASE_INSERT_COLUMNS}) VALUES (${purchaseValuesSql(19)})`,
};

/** Inserts the confirmed purchase that pays one period; the (subscription, period start) key refuses a second. */
export async function insertPeriodPurchase(sql: Sql, purchase: PurchaseRecord): Promise<void> {
  await sql.rows(INSERT_PERIOD_PURCHASE, [...purchaseValues(purchase), ...pointsValues(purchase)]);
}

/** A claim of a pending, unclaimed offer, that holds only while the totals read as `spent` are still these. */
const unclaimedAndUnchangedSql = (week: string, month: string) =>
  `status = 'pending' AND subscriber_id IS NULL AND ${spendingUnchangedSql('spent', week, month)}`;

const ACTIVATE: Statement = {
  name: 'subscription_activate',
  text: `WITH spent AS (${spendingSql('$3', '$24', '$25')}),
    activated AS (
      UPDATE subscriptions SET subscriber_id = $3::text, status = 'active', activated_at = $11::timestamptz,
        current_period_start = $19::timestamptz, current_period_end = $20::timestamptz,
        next_attempt_at = $20::timestamptz
      WHERE id = $4::text AND ${unclaimedAndUnchangedSql('$26', '$27')}
      RETURNING id
    ), charged AS (
      INSERT INTO purchases (${PURCHASE_INSERT_COLUMNS}) SELECT ${purchaseValuesSql(21)} FROM activated
    ), event AS (
      INSERT INTO outbox_events (id, publisher_id, type, payload, created_at, next_attempt_at)
      SELECT $23::text, $2::text, 'subscription.activated', $28::jsonb, $11::timestamptz, $11::timestamptz
      FROM activated
    )
    SELECT (SELECT count(*) FROM activated)::int AS claimed, spent.week, spent.month FROM spent`,
};

/**
 * Activates a pending offer: its first period's purchase, the new state and
 * the outbox event, in one statement. Like a purchase's claim, it holds only
 * while the offer is unclaimed and the subscriber's totals are still
 * `decidedOn`; the subscriber's lock must be held.
 */
export async function activateSubscription(
  sql: Sql,
  active: SubscriptionRecord,
  firstPeriod: PurchaseRecord,
  event: OutboxEvent,
  decidedOn: SpendingRecord,
  periods: SpendingPeriods,
): Promise<ClaimResult> {
  const [row] = await sql.rows<ClaimRow>(ACTIVATE, [
    ...purchaseValues(firstPeriod),
    active.currentPeriodStart,
    active.currentPeriodEnd,
    ...pointsValues(firstPeriod),
    event.id,
    periods.weekStart,
    periods.monthStart,
    decidedOn.week.toFixed(2),
    decidedOn.month.toFixed(2),
    JSON.stringify(event.payload),
  ]);
  return toClaimResult(row, decidedOn, `subscription ${active.id}`);
}

const DECLINE: Statement = {
  name: 'subscription_decline',
  text: `WITH spent AS (${spendingSql('$2', '$4', '$5')}),
    declined AS (
      UPDATE subscriptions SET subscriber_id = $2::text, status = 'declined', decline_code = $3::text
      WHERE id = $1::text AND ${unclaimedAndUnchangedSql('$6', '$7')}
      RETURNING id
    )
    SELECT (SELECT count(*) FROM declined)::int AS claimed, spent.week, spent.month FROM spent`,
};

/** Declines a pending offer, guarded as activateSubscription is. */
export async function declineSubscription(
  sql: Sql,
  declined: SubscriptionRecord,
  decidedOn: SpendingRecord,
  periods: SpendingPeriods,
): Promise<ClaimResult> {
  const [row] = await sql.rows<ClaimRow>(DECLINE, [
    declined.id,
    declined.subscriberId,
    declined.declineCode,
    periods.weekStart,
    periods.monthStart,
    decidedOn.week.toFixed(2),
    decidedOn.month.toFixed(2),
  ]);
  return toClaimResult(row, decidedOn, `subscription ${declined.id}`);
}

const INSERT_SUBSCRIPTION: Statement = {
  name: 'subscription_insert',
  text: `INSERT INTO subscriptions (id, publisher_id, plan, amount, currency, description, channel, return_url,
      vat_rate, status, created_at, expires_at)
    VALUES ($1::text, $2::text, $3::text, $4::numeric, $5::text, $6::text, $7::text, $8::text, $9::numeric,
      $10::text, $11::timestamptz, $12::timestamptz)`,
};

/** Writes a new offer (pending, nobody's yet). */
export async function insertSubscription(sql: Sql, offer: SubscriptionRecord): Promise<void> {
  await sql.rows(INSERT_SUBSCRIPTION, [
    offer.id,
    offer.publisherId,
    offer.plan,
    offer.amount.toFixed(2),
    offer.currency,
    offer.description,
    offer.channel,
    offer.returnUrl,
    offer.vatRate?.toString() ?? null,
    offer.status,
    offer.createdAt,
    offer.expiresAt,
  ]);
}

const FIND_SUBSCRIPTION: Statement = {
  name: 'subscription_find',
  text: `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions sub WHERE sub.id = $1::text`,
};

export async function findSubscription(sql: Sql, id: string): Promise<SubscriptionRecord | null> {
  const [row] = await sql.rows<SubscriptionRow>(FIND_SUBSCRIPTION, [id]);
  return row ? toSubscription(row) : null;
}

const LOCK_SUBSCRIPTION: Statement = {
  name: 'subscription_lock',
  text: `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions sub WHERE sub.id = $1::text FOR UPDATE`,
};

/** Locks one subscription and returns it as it is once the lock is granted; null when there is none. */
export async function lockSubscription(sql: Sql, id: string): Promise<SubscriptionRecord | null> {
  const [row] = await sql.rows<SubscriptionRow>(LOCK_SUBSCRIPTION, [id]);
  return row ? toSubscription(row) : null;
}

const SAVE_STATE: Statement = {
  name: 'subscription_save_state',
  text: `UPDATE subscriptions SET status = $2::text, decline_code = $3::text, renewal_attempts = $4::int,
      next_attempt_at = $5::timestamptz, current_period_start = $6::timestamptz, current_period_end = $7::timestamptz,
      canceled_at = $8::timestamptz
    WHERE id = $1::text`,
};

/**
 * Writes where a locked subscription's life now stands (status, period,
 * renewal schedule, cancellation), as the domain decided it.
 */
export async function saveSubscriptionState(sql: Sql, subscription: SubscriptionRecord): Promise<void> {
  await sql.rows(SAVE_STATE, [
    subscription.id,
    subscription.status,
    subscription.declineCode,
    subscription.renewalAttempts,
    subscription.nextAttemptAt,
    subscription.currentPeriodStart,
    subscription.currentPeriodEnd,
    subscription.canceledAt,
  ]);
}

const DUE: Statement = {
  name: 'subscription_due',
  text: `SELECT id, next_attempt_at AS "nextAttemptAt" FROM subscriptions
    WHERE status IN ('active', 'past_due') AND next_attempt_at <= $1::timestamptz
      AND ($3::text[] IS NULL OR publisher_id = ANY($3::text[]))
    ORDER BY next_attempt_at
    LIMIT $2::int`,
};

/**
 * Subscriptions whose renewal (or retry) is due at `now`, oldest first;
 * `publisherIds` restricts them to those publishers' (see SweepScope).
 */
export async function dueSubscriptionIds(
  sql: Sql,
  now: Date,
  limit: number,
  publisherIds: readonly string[] | null,
): Promise<{ id: string; nextAttemptAt: Date }[]> {
  return sql.rows<{ id: string; nextAttemptAt: Date }>(DUE, [now, limit, publisherIds ? [...publisherIds] : null]);
}
