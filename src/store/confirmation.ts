import type Decimal from 'decimal.js';
import { money, type LockedSubscriberRecord, type SellerRecord } from './records.js';
import { OPERATOR_LIMIT_COLUMNS, toOperatorLimits, type OperatorLimitColumns } from './operator-limits.js';
import type { Sql, Statement } from './sql.js';

/**
 * What a confirmation of a purchase or of a subscription offer shares: the
 * subscriber's lock with its controls and limits, the seller, and the running
 * totals its claim is guarded by.
 */

/**
 * A subscriber's totals for one week and one month, as text: two rows by
 * primary key, whatever its history. Placeholders name the subscriber and the
 * two period starts.
 */
export function spendingSql(subscriber: string, weekStart: string, monthStart: string): string {
  return `SELECT COALESCE(SUM(amount) FILTER (WHERE period_kind = 'week'), 0)::text AS week,
           COALESCE(SUM(amount) FILTER (WHERE period_kind = 'month'), 0)::text AS month
    FROM subscriber_spending
    WHERE subscriber_id = ${subscriber}::text
      AND ((period_kind = 'week' AND period_start = ${weekStart}::timestamptz)
        OR (period_kind = 'month' AND period_start = ${monthStart}::timestamptz))`;
}

/**
 * True when the totals `spendingSql` reads are still `week` and `month`: the
 * guard of a claim, written into the claim's own statement.
 */
export function spendingUnchangedSql(spent: string, week: string, month: string): string {
  return `(SELECT week::numeric = ${week}::numeric AND month::numeric = ${month}::numeric FROM ${spent})`;
}

export const LOCK_SUBSCRIBER_COLUMNS = `s.id, s.operator_id AS "operatorId", s.external_ref AS "externalRef",
  s.holder_id AS "holderId", s.blocked, COALESCE(s.blocked_categories, '{}') AS "blockedCategories",
  s.limit_weekly::text AS "limitWeekly", s.limit_monthly::text AS "limitMonthly",
  s.points_allowed AS "pointsAllowed", ${OPERATOR_LIMIT_COLUMNS}`;

export interface LockedSubscriberRow extends OperatorLimitColumns {
  id: string;
  operatorId: string;
  externalRef: string;
  holderId: string | null;
  blocked: boolean;
  blockedCategories: string[];
  limitWeekly: string | null;
  limitMonthly: string | null;
  pointsAllowed: boolean;
}

export function toLockedSubscriber(row: LockedSubscriberRow): LockedSubscriberRecord {
  return {
    id: row.id,
    operatorId: row.operatorId,
    externalRef: row.externalRef,
    holderId: row.holderId,
    blocked: row.blocked,
    blockedCategories: row.blockedCategories,
    limitWeekly: money(row.limitWeekly),
    limitMonthly: money(row.limitMonthly),
    pointsAllowed: row.pointsAllowed,
    operator: toOperatorLimits(row.operatorId, row),
  };
}

/** The seller's columns, from a publisher joined as `pub`. */
export const SELLER_COLUMNS = `pub.name AS "sellerName", pub.category AS "sellerCategory",
  pub.suspended_at IS NOT NULL AS "sellerSuspended", pub.rate_isp::text AS "rateIsp",
  pub.rate_sms::text AS "rateSms", pub.rate_voice::text AS "rateVoice", pub.vat_rate::text AS "sellerVatRate",
  pub.points_per_euro::text AS "sellerPointsPerEuro"`;

export interface SellerRow {
  sellerName: string;
  sellerCategory: string;
  sellerSuspended: boolean;
  rateIsp: string;
  rateSms: string;
  rateVoice: string;
  sellerVatRate: string;
  sellerPointsPerEuro: string;
}

export function toSeller(id: string, row: SellerRow): SellerRecord {
  return {
    id,
    name: row.sellerName,
    category: row.sellerCategory,
    suspended: row.sellerSuspended,
    rates: { isp: money(row.rateIsp), sms: money(row.rateSms), voice: money(row.rateVoice) },
    vatRate: money(row.sellerVatRate),
    pointsPerEuro: money(row.sellerPointsPerEuro),
  };
}

/** A subscriber's running totals for one ISO week and one calendar month. */
export interface SpendingRecord {
  week: Decimal;
  month: Decimal;
}

/** The week and month whose totals a confirmation judges. */
export interface SpendingPeriods {
  weekStart: Date;
  monthStart: Date;
}

export type ClaimResult =
  | { claimed: true }
  /** Someone claimed it first. */
  | { claimed: false; spendingMoved: false }
  /** The totals the outcome was decided on are not the current ones: decide again on `spentNow`. */
  | { claimed: false; spendingMoved: true; spentNow: SpendingRecord };

/** What a guarded claim statement answered: its count of claimed rows and the totals its snapshot saw. */
export interface ClaimRow {
  claimed: number;
  week: string;
  month: string;
}

export function toClaimResult(row: ClaimRow | undefined, decidedOn: SpendingRecord, what: string): ClaimResult {
  if (!row) throw new Error(`the claim of ${what} returned no row`);
  if (row.claimed === 1) return { claimed: true };
  const spentNow = { week: money(row.week), month: money(row.month) };
  if (spentNow.week.equals(decidedOn.week) && spentNow.month.equals(decidedOn.month))
    return { claimed: false, spendingMoved: false };
  return { claimed: false, spendingMoved: true, spentNow };
}

/** A subscriber as an operator's assertion names it: unique per operator, and never changed once provisioned. */
export interface SubscriberRef {
  operatorId: string;
  externalRef: string;
}

/**
 * The statement that locks the subscriber ($1) and reads, in the same round
 * trip, its controls and limits, the purchase or offer to confirm ($2, from
 * `table` as `alias`, with `columns`), its seller, and the running totals of
 * the week and month starting at $3 and $4, as the statement's snapshot saw
 * them: from before any wait for the lock.
 */
export function lockSubscriberWithSql(table: string, alias: string, columns: string): string {
  return `${readSubscriberWithSql(table, alias, columns, 's.id = $1::text')}
    FOR UPDATE OF s`;
}

/** Finds the subscriber by the operator ($1) and external ref ($5) an assertion names: no lookup before it. */
export const BY_REF = 's.operator_id = $1::text AND s.external_ref = $5::text';

/**
 * The same read as lockSubscriberWithSql, taking no lock, with the subscriber
 * found by `subscriberIs` (its id as $1, or BY_REF): what a confirmation
 * decides on before it writes.
 */
export function readSubscriberWithSql(table: string, alias: string, columns: string, subscriberIs: string): string {
  return `SELECT ${LOCK_SUBSCRIBER_COLUMNS}, s.id AS "subscriberFound", ${alias}.id AS "itemFound", ${columns},
      ${SELLER_COLUMNS}, spent.week AS "spentWeek", spent.month AS "spentMonth"
    FROM subscribers s
    JOIN operators o ON o.id = s.operator_id
    CROSS JOIN LATERAL (${spendingSql('s.id', '$3', '$4')}) spent
    LEFT JOIN ${table} ${alias} ON ${alias}.id = $2::text
    LEFT JOIN publishers pub ON pub.id = ${alias}.publisher_id
    WHERE ${subscriberIs}`;
}

/**
 * The subscriber's own controls as one text: a write that locks the row
 * compares the text it reads then with the one its decision was made on.
 */
export const CONTROLS_FINGERPRINT = `concat_ws('|', s.blocked, s.holder_id, COALESCE(s.blocked_categories, '{}')::text,
  s.limit_weekly, s.limit_monthly, s.points_allowed)`;

export interface LockedForConfirmation<Item> {
  subscriber: LockedSubscriberRecord;
  /** As the locking statement read it, unlocked: its claim must be guarded, it may have changed while we waited. */
  item: Item | null;
  seller: SellerRecord | null;
  /**
   * From the locking statement's snapshot, taken before any wait for the lock:
   * a confirmation committed meanwhile is missing from them. A claim made on
   * them must be guarded by them, never trusted as they are.
   */
  spentBeforeLock: SpendingRecord;
}

/**
 * Runs a statement of readSubscriberWithSql: `subscriber` is the id ($1) or
 * the ref (BY_REF) the statement finds it by. Null when there is no such
 * subscriber.
 */
export async function lockSubscriberWith<Row, Item extends { publisherId: string }>(
  sql: Sql,
  statement: Statement,
  ids: { subscriber: string | SubscriberRef; itemId: string },
  periods: SpendingPeriods,
  toItem: (row: Row) => Item,
): Promise<LockedForConfirmation<Item> | null> {
  const { subscriber: who, itemId } = ids;
  const values =
    typeof who === 'string'
      ? [who, itemId, periods.weekStart, periods.monthStart]
      : [who.operatorId, itemId, periods.weekStart, periods.monthStart, who.externalRef];
  const [row] = await sql.rows<
    LockedSubscriberRow &
      Row &
      SellerRow & { subscriberFound: string; itemFound: string | null; spentWeek: string; spentMonth: string }
  >(statement, values);
  if (!row) return null;
  // Both the subscriber and the item have an id column: each takes its own back under its own name.
  const subscriber = toLockedSubscriber({ ...row, id: row.subscriberFound });
  const spentBeforeLock = { week: money(row.spentWeek), month: money(row.spentMonth) };
  if (row.itemFound === null) return { subscriber, item: null, seller: null, spentBeforeLock };
  const item = toItem({ ...row, id: row.itemFound });
  return { subscriber, item, seller: toSeller(item.publisherId, row), spentBeforeLock };
}
