import { newId } from '../ids.js';
import {
  claimConfirmed,
  claimDeclined,
  findPurchase,
  insertPendingPurchase,
  loadForConfirmation,
  lockPurchase,
  lockSubscriber as lockSubscriberRow,
  recordRefund,
  type ClaimOutcome,
  type ConfirmationContext,
  type SpendingPeriods,
  type SubscriberRef,
} from '../store/purchases.js';
import type { KeyedReply, StoredReply } from '../store/idempotency-keys.js';
import type { Database } from '../store/database.js';
import type { LockedSubscriberRecord, PurchaseRecord, RefundRecord, SellerRecord } from '../store/records.js';
import type { Sql } from '../store/sql.js';
import { authorize } from './ceilings.js';
import { commissionOn } from './commission.js';
import type { Channel } from '../shared/catalogue.js';
import { AppError, invalidState, notFound, unauthorized, type DeclineCode } from './errors.js';
import { webhookEvent } from './events.js';
import { notifyOperatorOfCharge } from './operator-notifications.js';
import { sandboxDecline } from './sandbox.js';
import { Decimal } from '../shared/money.js';
import { purchaseStatus } from './offer-status.js';
import { purchasePayload, refundPayload } from './webhook-payloads.js';
import { householdControls, spentBy, subscriberLimits, type Spent } from './spending.js';
import { monthStart, weekStart } from './periods.js';
import { clawBackPoints, postConfirmationPoints } from './household-points.js';
import { householdOfSubscriber } from '../store/points.js';
import { euroPart, pointsEarned } from './points.js';

export type Purchase = PurchaseRecord;
export type Refund = RefundRecord;
export type Seller = SellerRecord;
export type LockedSubscriber = LockedSubscriberRecord;

/** docs/purchases.md: a pending purchase expires 10 minutes after creation. */
export const CONSENT_TTL_MS = 10 * 60 * 1000;

export interface NewPurchase {
  amount: Decimal;
  description: string;
  channel: Channel;
  kind: 'article' | 'credits';
  credits: number | null;
  returnUrl: string | null;
  /** Overrides the publisher's VAT rate (docs/money.md). */
  vatRate?: string;
}

export function rateFor(seller: Seller, channel: Channel): Decimal {
  return seller.rates[channel];
}

export function assertCanSell(publisher: { suspendedAt: Date | null }): void {
  if (publisher.suspendedAt) throw new AppError('forbidden', 'This publisher is suspended and can create nothing');
}

/** A new pending purchase, built before anything is written so its reply can be stored with it. */
export function newPurchase(
  publisher: { id: string; suspendedAt: Date | null; vatRate: Decimal },
  input: NewPurchase,
  now = new Date(),
): Purchase {
  assertCanSell(publisher);
  return {
    id: newId('pur', now.getTime()),
    publisherId: publisher.id,
    subscriberId: null,
    subscriptionId: null,
    subscriptionPeriodStart: null,
    kind: input.kind,
    credits: input.credits,
    amount: new Decimal(input.amount.toFixed(2)),
    currency: 'EUR',
    description: input.description,
    channel: input.channel,
    returnUrl: input.returnUrl,
    status: 'pending',
    declineCode: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + CONSENT_TTL_MS),
    confirmedAt: null,
    commissionRate: null,
    commissionAmount: null,
    refundedAmount: new Decimal(0),
    chargedBackAmount: new Decimal(0),
    invoiceId: null,
    vatRate: input.vatRate === undefined ? publisher.vatRate : new Decimal(input.vatRate),
    consentIp: null,
    consentUserAgent: null,
    consentPageVersion: null,
    consentAssertionId: null,
    pointsSpent: 0,
    pointsEarned: 0,
    pointValue: null,
  };
}

/**
 * Click one: writes a new pending purchase with its idempotency key and the
 * reply stored under it, both or neither, in one statement on the database's
 * pool: one round trip and no transaction of its own, the hot path of issue 22.
 * Null when written; when the key was already used, what the earlier request
 * stored under it.
 */
export function savePendingPurchase(db: Database, purchase: Purchase, keyed: KeyedReply): Promise<StoredReply | null> {
  return insertPendingPurchase(db.sql, purchase, keyed);
}

/**
 * Locks the subscriber row, the one lock that serializes every authorization
 * for a subscriber and every change to its controls, across processes.
 */
export async function lockSubscriber(sql: Sql, subscriberId: string): Promise<LockedSubscriber> {
  const locked = await lockSubscriberRow(sql, subscriberId);
  if (!locked) throw notFound('Subscriber');
  return locked;
}

/** Who confirmed, from where, on what page: kept with the purchase as consent evidence. */
export interface ConsentEvidence {
  ip: string | null;
  userAgent: string | null;
  pageVersion: string;
  assertionId: string;
}

export type Confirmation =
  { outcome: 'confirmed'; purchase: Purchase } | { outcome: 'declined'; purchase: Purchase; code: DeclineCode };

/**
 * Decides a charge for a subscriber whose row the caller has locked: every
 * check of docs/purchases.md, with spending read by a statement sent after the lock was
 * granted, so it sees every confirmation committed before.
 */
export async function decideCharge(
  sql: Sql,
  subscriber: LockedSubscriber,
  seller: Seller,
  amount: Decimal,
  now: Date,
): Promise<DeclineCode | null> {
  return decideChargeOn(subscriber, seller, amount, await spentBy(sql, subscriber.id, now));
}

/** The decision itself, on the totals given: whether they can be trusted is the caller's to make sure. */
export function decideChargeOn(
  subscriber: LockedSubscriber,
  seller: Seller,
  amount: Decimal,
  spent: Spent,
): DeclineCode | null {
  const scenario = sandboxDecline(subscriber.externalRef, subscriber.operator.sandbox);
  if (scenario) return scenario;
  return authorize({
    amount,
    category: seller.category,
    publisherSuspended: seller.suspended,
    limits: subscriberLimits(subscriber, subscriber.operator),
    controls: householdControls(subscriber),
    spentThisWeek: spent.week,
    spentThisMonth: spent.month,
  });
}

/** The consent evidence columns, as stored: user agents are cut to what a dispute needs. */
export function consentColumns(evidence: ConsentEvidence) {
  return {
    consentIp: evidence.ip,
    consentUserAgent: evidence.userAgent?.slice(0, 512) ?? null,
    consentPageVersion: evidence.pageVersion,
    consentAssertionId: evidence.assertionId,
  };
}

/** What points do to a confirmation: none spent and none earned unless the operator runs the programme. */
export interface PointsPart {
  spent: number;
  /** The euro part: the price less the points' value. */
  euros: Decimal;
  pointValue: Decimal;
  programme: boolean;
}

/**
 * The purchase as a confirmation leaves it, confirmed with its commission or
 * declined with its code. Confirmed with points, its amount becomes the euro
 * part (what is billed, commissioned and counted against ceilings), and that
 * euro part earns the household points at the seller's rate.
 */
export function claimedPurchase(
  purchase: Purchase,
  subscriberId: string,
  code: DeclineCode | null,
  seller: Seller,
  evidence: ConsentEvidence,
  now: Date,
  points: PointsPart = { spent: 0, euros: purchase.amount, pointValue: new Decimal(0), programme: false },
): Purchase {
  const consented = { ...purchase, ...consentColumns(evidence), subscriberId };
  if (code) return { ...consented, status: 'declined', declineCode: code };
  const rate = rateFor(seller, purchase.channel);
  const earned = points.programme ? pointsEarned(points.euros, seller.pointsPerEuro) : 0;
  return {
    ...consented,
    status: 'confirmed',
    confirmedAt: now,
    amount: points.euros,
    commissionRate: rate,
    commissionAmount: commissionOn(points.euros, rate),
    pointsSpent: points.spent,
    pointsEarned: earned,
    pointValue: points.spent > 0 || earned > 0 ? points.pointValue : null,
  };
}

/**
 * A claim refused because what it was decided on changed while it waited for
 * the subscriber's lock (controls a holder edited, totals a refund lowered) is
 * decided again on what stands now; that is already rare, and a third time
 * means something is wrong.
 */
export const CLAIM_ATTEMPTS = 3;

/**
 * Where a confirmation runs: statements one at a time (each its own
 * transaction) and, when a charge also moves points or notifies the operator,
 * one transaction for the claim and those. A caller already in a transaction
 * (an idempotency key's) passes its Sql, and everything runs in it.
 */
export interface Statements {
  sql: Sql;
  transaction: <T>(work: (sql: Sql) => Promise<T>) => Promise<T>;
}

function statementsOf(runner: Sql | Statements): Statements {
  return 'transaction' in runner ? runner : { sql: runner, transaction: (work) => work(runner) };
}

/** Who may see a purchase (GET /v1/purchases/:id), and whether its consent evidence is shown to them. */
function purchaseVisibility(
  purchase: Purchase,
  actor: { publisherId: string } | { subscriberId: string },
): { visible: boolean; withConsent: boolean } {
  if ('publisherId' in actor) return { visible: purchase.publisherId === actor.publisherId, withConsent: false };
  const own = purchase.subscriberId === actor.subscriberId;
  // An unclaimed pending purchase is what its consent page shows to any subscriber holding the link.
  const unclaimed = purchase.subscriberId === null && purchase.subscriptionId === null;
  return { visible: own || unclaimed, withConsent: own };
}

/**
 * The purchase as `actor` may see it: its publisher, its subscriber, or any
 * subscriber while it is unclaimed. Anyone else is told it does not exist.
 */
export async function purchaseSeenBy(
  sql: Sql,
  purchaseId: string,
  actor: { publisherId: string } | { subscriberId: string },
): Promise<{ purchase: Purchase; withConsent: boolean }> {
  const purchase = await findPurchase(sql, purchaseId);
  const seen = purchase ? purchaseVisibility(purchase, actor) : null;
  if (!purchase || !seen?.visible) throw notFound('Purchase');
  return { purchase, withConsent: seen.withConsent };
}

/**
 * Click two. The first subscriber to confirm a pending purchase owns it; asking
 * again returns the same outcome; anyone else is told it does not exist.
 * One shape: read everything once (one round trip, no lock, the subscriber
 * found by the ref its assertion names), decide here in plain code, write
 * once. A decline is one statement; a confirmation's claim is one statement
 * that locks and re-checks its ceilings and controls as they stand once locked
 * (claimConfirmed), so a purchase is two round trips to PostgreSQL and no
 * BEGIN or COMMIT of its own. A ref no subscriber answers to is unauthorized:
 * the assertion that names it authenticates nobody.
 */
export async function confirmPurchase(
  runner: Sql | Statements,
  purchaseId: string,
  subscriber: SubscriberRef,
  evidence: ConsentEvidence,
  publicUrl: string,
  now = new Date(),
  pointsRequested = 0,
): Promise<Confirmation> {
  const { sql, transaction } = statementsOf(runner);
  const periods = { weekStart: weekStart(now), monthStart: monthStart(now) };
  for (let attempt = 1; ; attempt++) {
    const context = await loadForConfirmation(sql, subscriber, purchaseId, periods);
    if (!context) throw unauthorized();
    const { purchase, seller } = context;
    const subscriberId = context.subscriber.id;
    if (!purchase || !seller || purchase.subscriptionId) throw notFound('Purchase');
    if (purchase.subscriberId !== null) return outcomeFor(purchase, subscriberId);
    if (purchaseStatus(purchase, now) === 'expired') {
      throw new AppError('consent_expired', 'This purchase expired before it was confirmed', {
        expiresAt: purchase.expiresAt.toISOString(),
      });
    }
    if (purchase.status !== 'pending') throw notFound('Purchase');

    const decided = await decideAndClaim(
      { sql, transaction },
      context,
      { purchase, seller, subscriberId, evidence, publicUrl, now, pointsRequested },
      periods,
    );
    if (decided) return decided;
    if (attempt === CLAIM_ATTEMPTS)
      throw new Error(`the controls of subscriber ${subscriberId} kept changing under its confirmations`);
  }
}

interface Claimant {
  purchase: Purchase;
  seller: Seller;
  subscriberId: string;
  evidence: ConsentEvidence;
  publicUrl: string;
  now: Date;
  pointsRequested: number;
}

/** Decides on `context` and claims; null when the controls changed meanwhile and it must be read again. */
async function decideAndClaim(
  { sql, transaction }: Statements,
  context: ConfirmationContext,
  { purchase, seller, subscriberId, evidence, publicUrl, now, pointsRequested }: Claimant,
  periods: SpendingPeriods,
): Promise<Confirmation | null> {
  const locked = context.subscriber;
  const { operator } = locked;
  const euros = euroPart(
    purchase.amount,
    pointsRequested,
    { enabled: operator.pointsEnabled, pointValue: operator.pointValue },
    { child: locked.holderId !== null, pointsAllowed: locked.pointsAllowed },
  );
  const points = { spent: pointsRequested, euros, pointValue: operator.pointValue, programme: operator.pointsEnabled };
  let spent: Spent = context.spent;
  // A confirmation refused by a ceiling, as the totals stand once locked, is then decided on those: a decline.
  for (let attempt = 1; ; attempt++) {
    if (attempt > CLAIM_ATTEMPTS) throw new Error(`the totals of subscriber ${subscriberId} kept moving`);
    const code = decideChargeOn(locked, seller, euros, spent);
    const claimed = claimedPurchase(purchase, subscriberId, code, seller, evidence, now, points);
    if (code) {
      if (await claimDeclined(sql, claimed)) return { outcome: 'declined', purchase: claimed, code };
      return outcomeOfTaken(sql, purchase.id, subscriberId);
    }
    const limits = subscriberLimits(locked, operator);
    const guard = { controls: context.controls, weeklyLimit: limits.weekly, monthlyLimit: limits.monthly };
    const event = webhookEvent('purchase.confirmed', purchasePayload(claimed, publicUrl, now), now);
    const moves = claimed.pointsSpent > 0 || claimed.pointsEarned > 0 || operator.notified;
    const claim = (tx: Sql) => claimConfirmed(tx, claimed, event, periods, guard);
    const outcome: ClaimOutcome = moves
      ? await transaction(async (tx) => {
          const result = await claim(tx);
          if (result.claimed) {
            await postConfirmationPoints(tx, claimed, locked, now);
            await notifyOperatorOfCharge(tx, locked, claimed, seller.name, now);
          }
          return result;
        })
      : await claim(sql);
    if (outcome.claimed) return { outcome: 'confirmed', purchase: claimed };
    if (outcome.why === 'taken') return outcomeOfTaken(sql, purchase.id, subscriberId);
    if (outcome.why === 'controls') return null;
    spent = outcome.spentNow;
  }
}

/** Someone claimed the purchase between our read and our write. */
async function outcomeOfTaken(sql: Sql, purchaseId: string, subscriberId: string): Promise<Confirmation> {
  const current = await findPurchase(sql, purchaseId);
  if (!current) throw notFound('Purchase');
  return outcomeFor(current, subscriberId);
}

/** The answer for a purchase someone already confirmed or was declined: theirs to see, or nobody's. */
function outcomeFor(purchase: Purchase, subscriberId: string): Confirmation {
  if (purchase.subscriberId !== subscriberId) throw notFound('Purchase');
  if (purchase.status === 'declined') {
    return { outcome: 'declined', purchase, code: purchase.declineCode as DeclineCode };
  }
  return { outcome: 'confirmed', purchase };
}

/** What is left of a purchase to refund or charge back. */
export function refundableAmount(purchase: Pick<Purchase, 'amount' | 'refundedAmount' | 'chargedBackAmount'>): Decimal {
  return purchase.amount.minus(purchase.refundedAmount).minus(purchase.chargedBackAmount);
}

/**
 * Gives back part or all of what is left of a purchase. Lowers what counts
 * against the subscriber's ceilings, since those sum amount − refunded (the
 * running totals follow the purchase row in the same transaction).
 */
export async function refundPurchase(
  sql: Sql,
  purchaseId: string,
  requested: Decimal | null,
  reason: 'publisher' | 'dispute',
  publicUrl: string,
  options: { publisherId?: string; disputeId?: string; allowDisputed?: boolean } = {},
  now = new Date(),
): Promise<{ refund: Refund; purchase: Purchase }> {
  const purchase = await lockPurchase(sql, purchaseId);
  if (!purchase || (options.publisherId && purchase.publisherId !== options.publisherId)) throw notFound('Purchase');
  const refundable = purchase.status === 'confirmed' || (options.allowDisputed && purchase.status === 'disputed');
  if (!refundable) {
    const status = purchaseStatus(purchase, now);
    throw invalidState(`A ${status} purchase cannot be refunded`, { status });
  }
  const left = refundableAmount(purchase);
  const amount = requested ?? left;
  if (amount.lte(0) || amount.gt(left)) {
    throw invalidState(`At most ${left.toFixed(2)} is left to refund`, { refundable: left.toFixed(2) });
  }
  const refundedAmount = purchase.refundedAmount.plus(amount);
  const fully = refundedAmount.plus(purchase.chargedBackAmount).eq(purchase.amount);
  const refund: Refund = {
    id: newId('ref', now.getTime()),
    purchaseId,
    amount,
    reason,
    disputeId: options.disputeId ?? null,
    createdAt: now,
  };
  const updated: Purchase = {
    ...purchase,
    refundedAmount,
    status: fully && purchase.status === 'confirmed' ? 'refunded' : purchase.status,
  };
  const event = webhookEvent(
    'purchase.refunded',
    { ...purchasePayload(updated, publicUrl, now), refund: refundPayload(refund) },
    now,
  );
  await recordRefund(sql, refund, updated, event);
  await clawBackOnRefund(sql, purchase, refund, now);
  return { refund, purchase: updated };
}

/** The points a refunded share no longer earns leave the household (docs/points.md). */
async function clawBackOnRefund(sql: Sql, purchase: Purchase, refund: Refund, now: Date): Promise<void> {
  if (purchase.pointsEarned === 0 || !purchase.subscriberId) return;
  const household = await householdOfSubscriber(sql, purchase.subscriberId);
  const before = refundableAmount(purchase);
  await clawBackPoints(
    sql,
    purchase,
    household.holderId,
    household.operatorId,
    { before, after: before.minus(refund.amount) },
    refund.id,
    now,
  );
}
