import type Decimal from 'decimal.js';
import {
  BY_REF,
  CONTROLS_FINGERPRINT,
  LOCK_SUBSCRIBER_COLUMNS,
  lockSubscriberWith,
  readSubscriberWithSql,
  spendingSql,
  toLockedSubscriber,
  type LockedSubscriberRow,
  type SpendingPeriods,
  type SpendingRecord,
  type SubscriberRef,
} from './confirmation.js';
import {
  money,
  type LockedSubscriberRecord,
  type PurchaseRecord,
  type RefundRecord,
  type SellerRecord,
} from './records.js';
import { storedReply, type KeyedReply, type StoredReply } from './idempotency-keys.js';
import type { Sql, Statement } from './sql.js';

export type { SpendingPeriods, SpendingRecord, SubscriberRef } from './confirmation.js';

/** Purchase columns as PurchaseRow names them; numeric travels as text so no float ever holds money. */
export const PURCHASE_COLUMNS = `p.id, p.publisher_id AS "publisherId", p.subscriber_id AS "subscriberId",
  p.subscription_id AS "subscriptionId", p.subscription_period_start AS "subscriptionPeriodStart", p.kind,
  p.credits, p.amount::text AS amount, p.currency, p.description, p.channel, p.return_url AS "returnUrl", p.status,
  p.decline_code AS "declineCode", p.created_at AS "createdAt", p.expires_at AS "expiresAt",
  p.confirmed_at AS "confirmedAt", p.commission_rate::text AS "commissionRate",
  p.commission_amount::text AS "commissionAmount", p.refunded_amount::text AS "refundedAmount",
  p.charged_back_amount::text AS "chargedBackAmount", p.invoice_id AS "invoiceId", p.consent_ip AS "consentIp",
  p.consent_user_agent AS "consentUserAgent", p.consent_page_version AS "consentPageVersion",
  p.consent_assertion_id AS "consentAssertionId", p.vat_rate::text AS "vatRate",
  p.points_spent AS "pointsSpent", p.points_earned AS "pointsEarned", p.point_value::text AS "pointValue"`;

type PurchaseRow = Omit<
  PurchaseRecord,
  'amount' | 'commissionRate' | 'commissionAmount' | 'refundedAmount' | 'chargedBackAmount' | 'vatRate' | 'pointValue'
> & {
  pointValue: string | null;
  vatRate: string | null;
  amount: string;
  commissionRate: string | null;
  commissionAmount: string | null;
  refundedAmount: string;
  chargedBackAmount: string;
};

/**
 * Field by field: statements that read a purchase beside its subscriber or
 * seller hand over a wider row, and none of those columns belongs in the record.
 */
export function toPurchase(row: PurchaseRow): PurchaseRecord {
  return {
    id: row.id,
    publisherId: row.publisherId,
    subscriberId: row.subscriberId,
    subscriptionId: row.subscriptionId,
    subscriptionPeriodStart: row.subscriptionPeriodStart,
    kind: row.kind,
    credits: row.credits,
    amount: money(row.amount),
    currency: row.currency,
    description: row.description,
    channel: row.channel,
    returnUrl: row.returnUrl,
    status: row.status,
    declineCode: row.declineCode,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    confirmedAt: row.confirmedAt,
    commissionRate: money(row.commissionRate),
    commissionAmount: money(row.commissionAmount),
    refundedAmount: money(row.refundedAmount),
    chargedBackAmount: money(row.chargedBackAmount),
    invoiceId: row.invoiceId,
    vatRate: money(row.vatRate),
    consentIp: row.consentIp,
    consentUserAgent: row.consentUserAgent,
    consentPageVersion: row.consentPageVersion,
    consentAssertionId: row.consentAssertionId,
    pointsSpent: row.pointsSpent,
    pointsEarned: row.pointsEarned,
    pointValue: money(row.pointValue),
  };
}

const INSERT_PENDING: Statement = {
  name: 'purchase_insert_pending',
  text: `WITH claimed_key AS (
      INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body)
      VALUES ($1::text, $2::text, $3::text, $4::int, $5::text)
      ON CONFLICT (scope, key) DO NOTHING
      RETURNING key
    ), created AS (
      INSERT INTO purchases (id, publisher_id, kind, credits, amount, currency, description, channel, return_url,
                             status, created_at, expires_at, vat_rate)
      SELECT $6::text, $7::text, $8::text, $9::int, $10::numeric, $11::text, $12::text, $13::text, $14::text,
             'pending', $15::timestamptz, $16::timestamptz, $17::numeric
      FROM claimed_key
      RETURNING id
    )
    SELECT count(*)::int AS created FROM created`,
};

/**
 * Inserts a pending purchase and its idempotency key in one statement, one
 * round trip: both or neither. When the key was already used, nothing is
 * inserted and the reply stored under it is returned instead.
 */
export async function insertPendingPurchase(
  sql: Sql,
  purchase: PurchaseRecord,
  reply: KeyedReply,
): Promise<StoredReply | null> {
  const [row] = await sql.rows<{ created: number }>(INSERT_PENDING, [
    reply.scope,
    reply.key,
    reply.requestHash,
    reply.status,
    reply.body,
    purchase.id,
    purchase.publisherId,
    purchase.kind,
    purchase.credits,
    purchase.amount.toFixed(2),
    purchase.currency,
    purchase.description,
    purchase.channel,
    purchase.returnUrl,
    purchase.createdAt,
    purchase.expiresAt,
    purchase.vatRate?.toString() ?? null,
  ]);
  return row?.created === 1 ? null : storedReply(sql, reply.scope, reply.key);
}

const LOCK_SUBSCRIBER: Statement = {
  name: 'subscriber_lock',
  text: `SELECT ${LOCK_SUBSCRIBER_COLUMNS}
    FROM subscribers s JOIN operators o ON o.id = s.operator_id
    WHERE s.id = $1::text
    FOR UPDATE OF s`,
};

/**
 * The one way to lock a subscriber: every authorization for one subscriber,
 * whichever gateway process runs it, is serialized on this row, so ceilings
 * cannot be overrun by concurrent confirmations. Returns the row as it is once
 * the lock is granted (controls included) with its operator's limits; null
 * when there is no such subscriber. Spending must be read by a later statement:
 * this one's snapshot predates the wait for the lock.
 */
export async function lockSubscriber(sql: Sql, subscriberId: string): Promise<LockedSubscriberRecord | null> {
  const [row] = await sql.rows<LockedSubscriberRow>(LOCK_SUBSCRIBER, [subscriberId]);
  return row ? toLockedSubscriber(row) : null;
}

const LOAD_FOR_CONFIRMATION: Statement = {
  name: 'purchase_load_for_confirmation',
  text: readSubscriberWithSql('purchases', 'p', `${PURCHASE_COLUMNS}, ${CONTROLS_FINGERPRINT} AS "controls"`, BY_REF),
};

export interface ConfirmationContext {
  subscriber: LockedSubscriberRecord;
  purchase: PurchaseRecord | null;
  seller: SellerRecord | null;
  /** The running totals as committed when the context was read: a claim on them must be guarded (claimConfirmed). */
  spent: SpendingRecord;
  /**
   * The subscriber's controls as read, in the form claimConfirmed compares them with once it holds the lock;
   * empty when there is no such purchase (nothing to claim).
   */
  controls: string;
}

/**
 * Reads, in one round trip and without a lock, everything a confirmation is
 * decided on: the subscriber's controls and limits, the purchase, its seller
 * and the running totals. The subscriber is found by its ref, as the
 * assertion names it, so that no lookup of its id comes first. Null when the
 * operator has no such subscriber.
 */
export async function loadForConfirmation(
  sql: Sql,
  subscriber: SubscriberRef,
  purchaseId: string,
  periods: SpendingPeriods,
): Promise<ConfirmationContext | null> {
  let controls = '';
  const loaded = await lockSubscriberWith(
    sql,
    LOAD_FOR_CONFIRMATION,
    { subscriber, itemId: purchaseId },
    periods,
    (row: PurchaseRow & { controls: string }) => {
      controls = row.controls;
      return toPurchase(row);
    },
  );
  if (!loaded) return null;
  return {
    subscriber: loaded.subscriber,
    purchase: loaded.item,
    seller: loaded.seller,
    spent: loaded.spentBeforeLock,
    controls,
  };
}

const READ_SPENDING: Statement = {
  name: 'subscriber_spending_read',
  text: spendingSql('$1', '$2', '$3'),
};

/**
 * A subscriber's running totals for one week and one month: two rows, whatever
 * its history. Called after the subscriber's lock is granted, its snapshot
 * holds every confirmation committed before.
 */
export async function readSpending(
  sql: Sql,
  subscriberId: string,
  weekStart: Date,
  monthStart: Date,
): Promise<SpendingRecord> {
  const [row] = await sql.rows<{ week: string; month: string }>(READ_SPENDING, [subscriberId, weekStart, monthStart]);
  return { week: money(row?.week ?? '0'), month: money(row?.month ?? '0') };
}

/** The columns a claim sets, from $1 (the purchase) to $15; shared by both claims. */
const CLAIM_SET = `subscriber_id = $2::text, status = $3::text, decline_code = $4::text,
  confirmed_at = $5::timestamptz, commission_rate = $6::numeric, commission_amount = $7::numeric,
  consent_ip = $8::text, consent_user_agent = $9::text, consent_page_version = $10::text,
  consent_assertion_id = $11::text, amount = $12::numeric, points_spent = $13::int,
  points_earned = $14::int, point_value = $15::numeric`;

const UNCLAIMED = `id = $1::text AND status = 'pending' AND subscriber_id IS NULL`;

/**
 * One statement, its own transaction unless the caller holds one: locks the
 * subscriber (the lock every authorization for it takes, whatever the path),
 * then its week and month running totals, and claims the purchase only if,
 * as they stand once locked, the subscriber's controls are still the ones
 * decided on and the amount still fits under both ceilings. The totals come
 * from an upsert's RETURNING: an upsert sees and locks the newest committed
 * row (even one inserted after this statement's snapshot), which a sum read in
 * the same statement as a FOR UPDATE would not. The claim's own trigger then
 * adds the amount to those rows, as for every other change to a purchase.
 */
const CLAIM_CONFIRMED: Statement = {
  name: 'purchase_claim_confirmed',
  text: `WITH locked AS (
      SELECT s.id, ${CONTROLS_FINGERPRINT} AS controls FROM subscribers s WHERE s.id = $2::text FOR UPDATE
    ), spent AS (
      INSERT INTO subscriber_spending AS t (subscriber_id, period_kind, period_start, amount)
      SELECT locked.id, k.kind, k.start, 0
      FROM locked CROSS JOIN (VALUES (1, 'week', $16::timestamptz), (2, 'month', $17::timestamptz)) AS k(n, kind, start)
      ORDER BY k.n
      ON CONFLICT (subscriber_id, period_kind, period_start) DO UPDATE SET amount = t.amount
      RETURNING period_kind, amount
    ), now_standing AS (
      SELECT COALESCE((SELECT amount FROM spent WHERE period_kind = 'week'), 0) AS week,
             COALESCE((SELECT amount FROM spent WHERE period_kind = 'month'), 0) AS month,
             (SELECT controls FROM locked) AS controls
    ), claimed AS (
      UPDATE purchases SET ${CLAIM_SET}
      WHERE ${UNCLAIMED}
        AND (SELECT controls = $18::text AND week + $12::numeric <= $19::numeric AND month + $12::numeric <= $20::numeric
             FROM now_standing)
      RETURNING publisher_id
    ), event AS (
      INSERT INTO outbox_events (id, publisher_id, type, payload, created_at, next_attempt_at)
      SELECT $21::text, publisher_id, $22::text, $23::jsonb, $24::timestamptz, $24::timestamptz FROM claimed
    )
    SELECT (SELECT count(*) FROM claimed)::int AS claimed, week::text, month::text,
           controls IS NOT DISTINCT FROM $18::text AS "controlsHeld"
    FROM now_standing`,
};

/** A decline moves no money and is decided on committed totals: it claims the purchase and takes no lock. */
const CLAIM_DECLINED: Statement = {
  name: 'purchase_claim_declined',
  text: `WITH claimed AS (UPDATE purchases SET ${CLAIM_SET} WHERE ${UNCLAIMED} RETURNING 1)
    SELECT count(*)::int AS claimed FROM claimed`,
};

function claimedColumns(claimed: PurchaseRecord): unknown[] {
  return [
    claimed.id,
    claimed.subscriberId,
    claimed.status,
    claimed.declineCode,
    claimed.confirmedAt,
    claimed.commissionRate?.toString() ?? null,
    claimed.commissionAmount?.toFixed(2) ?? null,
    claimed.consentIp,
    claimed.consentUserAgent,
    claimed.consentPageVersion,
    claimed.consentAssertionId,
    claimed.amount.toFixed(2),
    claimed.pointsSpent,
    claimed.pointsEarned,
    claimed.pointValue?.toFixed(2) ?? null,
  ];
}

/** What a claim answered. */
export type ClaimOutcome =
  | { claimed: true }
  /** Someone claimed the purchase first. */
  | { claimed: false; why: 'taken' }
  /** The subscriber's controls changed before the lock was granted: read again and decide again. */
  | { claimed: false; why: 'controls' }
  /** The amount no longer fits under a ceiling, as the totals stand once locked (`spentNow`). */
  | { claimed: false; why: 'ceiling'; spentNow: SpendingRecord };

/** The guard of a confirmed claim: the controls and ceilings its outcome was decided on. */
export interface ClaimGuard {
  controls: string;
  weeklyLimit: Decimal;
  monthlyLimit: Decimal;
}

/**
 * Claims a pending, unclaimed purchase as confirmed and writes its outbox
 * event, in one statement, if the guard still holds once the subscriber and
 * its totals are locked (see CLAIM_CONFIRMED). The first confirmer wins.
 */
export async function claimConfirmed(
  sql: Sql,
  claimed: PurchaseRecord,
  event: OutboxEvent,
  periods: SpendingPeriods,
  guard: ClaimGuard,
): Promise<ClaimOutcome> {
  const [row] = await sql.rows<{ claimed: number; week: string; month: string; controlsHeld: boolean }>(
    CLAIM_CONFIRMED,
    [
      ...claimedColumns(claimed),
      periods.weekStart,
      periods.monthStart,
      guard.controls,
      guard.weeklyLimit.toFixed(2),
      guard.monthlyLimit.toFixed(2),
      event.id,
      event.type,
      JSON.stringify(event.payload),
      event.createdAt,
    ],
  );
  if (!row) throw new Error(`the claim of purchase ${claimed.id} returned no row`);
  if (row.claimed === 1) return { claimed: true };
  if (!row.controlsHeld) return { claimed: false, why: 'controls' };
  const spentNow = { week: money(row.week), month: money(row.month) };
  const fits =
    spentNow.week.plus(claimed.amount).lte(guard.weeklyLimit) &&
    spentNow.month.plus(claimed.amount).lte(guard.monthlyLimit);
  return fits ? { claimed: false, why: 'taken' } : { claimed: false, why: 'ceiling', spentNow };
}

/** Claims a pending, unclaimed purchase as declined; false when someone claimed it first. */
export async function claimDeclined(sql: Sql, claimed: PurchaseRecord): Promise<boolean> {
  const [row] = await sql.rows<{ claimed: number }>(CLAIM_DECLINED, claimedColumns(claimed));
  return row?.claimed === 1;
}

/** An outbox event written by the statement that makes the change it reports. */
export interface OutboxEvent {
  id: string;
  type: string;
  /** The whole webhook body, as it will be signed and sent. */
  payload: unknown;
  createdAt: Date;
}

const FIND_PURCHASE: Statement = {
  name: 'purchase_find',
  text: `SELECT ${PURCHASE_COLUMNS} FROM purchases p WHERE p.id = $1::text`,
};

export async function findPurchase(sql: Sql, id: string): Promise<PurchaseRecord | null> {
  const [row] = await sql.rows<PurchaseRow>(FIND_PURCHASE, [id]);
  return row ? toPurchase(row) : null;
}

const LOCK_PURCHASE: Statement = {
  name: 'purchase_lock',
  text: `SELECT ${PURCHASE_COLUMNS} FROM purchases p WHERE p.id = $1::text FOR UPDATE`,
};

/** Locks one purchase and returns it as it is once the lock is granted (the row itself is re-read then). */
export async function lockPurchase(sql: Sql, id: string): Promise<PurchaseRecord | null> {
  const [row] = await sql.rows<PurchaseRow>(LOCK_PURCHASE, [id]);
  return row ? toPurchase(row) : null;
}

const RECORD_REFUND: Statement = {
  name: 'purchase_refund',
  text: `WITH refund AS (
      INSERT INTO refunds (id, purchase_id, amount, reason, dispute_id, created_at)
      VALUES ($1::text, $2::text, $3::numeric, $4::text, $5::text, $6::timestamptz)
    ), updated AS (
      UPDATE purchases SET refunded_amount = $7::numeric, status = $8::text WHERE id = $2::text
    )
    INSERT INTO outbox_events (id, publisher_id, type, payload, created_at, next_attempt_at)
    VALUES ($9::text, $10::text, 'purchase.refunded', $11::jsonb, $6::timestamptz, $6::timestamptz)`,
};

/**
 * Writes a refund, the purchase as it now stands and its outbox event in one
 * statement. The purchase must be locked by the caller (lockPurchase).
 */
export async function recordRefund(
  sql: Sql,
  refund: RefundRecord,
  purchase: PurchaseRecord,
  event: OutboxEvent,
): Promise<void> {
  await sql.rows(RECORD_REFUND, [
    refund.id,
    refund.purchaseId,
    refund.amount.toFixed(2),
    refund.reason,
    refund.disputeId,
    refund.createdAt,
    purchase.refundedAmount.toFixed(2),
    purchase.status,
    event.id,
    purchase.publisherId,
    JSON.stringify(event.payload),
  ]);
}
