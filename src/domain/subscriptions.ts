import type { Database } from '../store/database.js';
import type { SweepScope } from '../store/sweep-scope.js';
import type { SubscriptionRecord } from '../store/records.js';
import type { Sql } from '../store/sql.js';
import type { ClaimResult, SpendingPeriods } from '../store/confirmation.js';
import {
  activateSubscription,
  declineSubscription,
  dueSubscriptionIds,
  findSubscription,
  insertPeriodPurchase,
  insertSubscription,
  lockForSubscriptionConfirmation,
  lockSubscription,
  lockSubscriptionWithSeller,
  saveSubscriptionState,
} from '../store/subscriptions.js';
import { newId } from '../ids.js';
import { commissionOn } from './commission.js';
import { AppError, invalidRequest, invalidState, notFound, type DeclineCode } from './errors.js';
import { recordEvent, webhookEvent, type EventType } from './events.js';
import { notifyOperatorOfCharge } from './operator-notifications.js';
import { postConfirmationPoints } from './household-points.js';
import { pointsEarned } from './points.js';
import { Decimal } from '../shared/money.js';
import { nextPeriodEnd, periodHolding, type Period } from './plan-periods.js';
import type { Plan, Channel } from '../shared/catalogue.js';
import {
  CLAIM_ATTEMPTS,
  CONSENT_TTL_MS,
  assertCanSell,
  consentColumns,
  decideCharge,
  decideChargeOn,
  lockSubscriber,
  rateFor,
  type ConsentEvidence,
  type LockedSubscriber,
  type Purchase,
  type Seller,
} from './purchases.js';
import { purchaseStatus } from './offer-status.js';
import type { SubscriptionViewer } from './subscription-visibility.js';
import { monthStart, weekStart } from './periods.js';
import type { Spent } from './spending.js';
import { purchasePayload, subscriptionPayload } from './webhook-payloads.js';

/** Price tiers (docs/subscriptions.md): the most one period of each plan may cost. */
export const PRICE_CAPS: Record<Plan, Decimal> = {
  weekly: new Decimal('5.00'),
  monthly: new Decimal('30.00'),
  quarterly: new Decimal('30.00'),
};

export function assertPriceTier(plan: Plan, amount: Decimal): void {
  const cap = PRICE_CAPS[plan];
  if (amount.gt(cap)) {
    throw invalidRequest(`A ${plan} plan costs at most ${cap.toFixed(2)}`, {
      fields: { amount: `at most ${cap.toFixed(2)} for a ${plan} plan` },
    });
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When a declined renewal is tried again, counted from the date it was due (not
 * from the last failure, so a late worker does not stretch the schedule). After
 * the last one fails the subscription is canceled.
 */
export const RENEWAL_RETRY_OFFSETS_MS = [1 * DAY_MS, 3 * DAY_MS, 7 * DAY_MS] as const;

export interface RenewalState {
  status: 'active' | 'past_due';
  /** The end of the paid period: retries are counted from it. */
  dueAt: Date;
  /** Failed attempts so far for the period being charged. */
  renewalAttempts: number;
}

export type RenewalStep =
  | {
      status: 'active';
      renewalAttempts: 0;
      currentPeriodStart: Date;
      currentPeriodEnd: Date;
      nextAttemptAt: Date;
      event: EventType;
    }
  | { status: 'past_due'; renewalAttempts: number; nextAttemptAt: Date; event: EventType | null }
  | { status: 'canceled'; renewalAttempts: number; nextAttemptAt: null; event: EventType };

/** The renewal state machine: where one attempt at charging a period leads, paid or declined. */
export function renewalStep(state: RenewalState, result: { paid: Period } | { decline: DeclineCode }): RenewalStep {
  if ('paid' in result) {
    return {
      status: 'active',
      renewalAttempts: 0,
      currentPeriodStart: result.paid.start,
      currentPeriodEnd: result.paid.end,
      nextAttemptAt: result.paid.end,
      event: 'subscription.renewed',
    };
  }
  const attempts = state.renewalAttempts + 1;
  const offsetMs = RENEWAL_RETRY_OFFSETS_MS[attempts - 1];
  if (offsetMs === undefined)
    return { status: 'canceled', renewalAttempts: attempts, nextAttemptAt: null, event: 'subscription.canceled' };
  return {
    status: 'past_due',
    renewalAttempts: attempts,
    nextAttemptAt: new Date(state.dueAt.getTime() + offsetMs),
    // Publishers hear of the change of status, not of every retry.
    event: state.status === 'active' ? 'subscription.past_due' : null,
  };
}

export interface NewSubscription {
  plan: Plan;
  amount: Decimal;
  description: string;
  channel: Channel;
  returnUrl: string | null;
  /** Overrides the publisher's VAT rate for every period (docs/money.md). */
  vatRate?: string;
}

/** A pending offer as a publisher makes it: nobody's until a subscriber confirms it. */
export function newSubscription(
  publisher: { id: string; suspendedAt: Date | null },
  input: NewSubscription,
  now: Date,
): SubscriptionRecord {
  assertCanSell(publisher);
  assertPriceTier(input.plan, input.amount);
  return {
    id: newId('sbn', now.getTime()),
    publisherId: publisher.id,
    subscriberId: null,
    plan: input.plan,
    // As numeric(…, 2) stores it, so the reply shows what was written.
    amount: new Decimal(input.amount.toFixed(2)),
    currency: 'EUR',
    description: input.description,
    channel: input.channel,
    returnUrl: input.returnUrl,
    status: 'pending',
    declineCode: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + CONSENT_TTL_MS),
    activatedAt: null,
    currentPeriodStart: null,
    currentPeriodEnd: null,
    renewalAttempts: 0,
    nextAttemptAt: null,
    canceledAt: null,
    vatRate: input.vatRate === undefined ? null : new Decimal(input.vatRate),
  };
}

export async function createSubscription(
  tx: Sql,
  publisher: { id: string; suspendedAt: Date | null },
  input: NewSubscription,
  now = new Date(),
): Promise<SubscriptionRecord> {
  const offer = newSubscription(publisher, input, now);
  await insertSubscription(tx, offer);
  return offer;
}

/** The confirmed purchase that pays one period of a subscription. */
function periodPurchase(
  subscription: SubscriptionRecord,
  seller: Seller,
  locked: LockedSubscriber,
  subscriberId: string,
  periodStart: Date,
  evidence: ConsentEvidence | null,
  now: Date,
): Purchase {
  const rate = rateFor(seller, subscription.channel);
  const noEvidence = { consentIp: null, consentUserAgent: null, consentPageVersion: null, consentAssertionId: null };
  // A period earns points like any purchase (docs/points.md); it is never paid with them.
  const { operator } = locked;
  const earned = operator.pointsEnabled ? pointsEarned(subscription.amount, seller.pointsPerEuro) : 0;
  const points = { pointsSpent: 0, pointsEarned: earned, pointValue: earned > 0 ? operator.pointValue : null };
  return {
    id: newId('pur', now.getTime()),
    publisherId: seller.id,
    subscriberId,
    subscriptionId: subscription.id,
    subscriptionPeriodStart: periodStart,
    kind: 'subscription',
    credits: null,
    amount: subscription.amount,
    currency: subscription.currency,
    description: subscription.description,
    channel: subscription.channel,
    returnUrl: subscription.returnUrl,
    status: 'confirmed',
    declineCode: null,
    createdAt: now,
    expiresAt: now,
    confirmedAt: now,
    commissionRate: rate,
    commissionAmount: commissionOn(subscription.amount, rate),
    refundedAmount: new Decimal(0),
    chargedBackAmount: new Decimal(0),
    invoiceId: null,
    vatRate: subscription.vatRate ?? seller.vatRate,
    ...(evidence ? consentColumns(evidence) : noEvidence),
    ...points,
  };
}

/**
 * Decides the charge of a renewed period as a purchase, through the same lock
 * and checks as any purchase, with no consent evidence: nobody clicked. The
 * caller writes the purchase; the (subscription, period start) unique key is
 * the last guard against charging a period twice.
 */
async function chargeRenewal(
  sql: Sql,
  subscription: SubscriptionRecord,
  seller: Seller,
  subscriberId: string,
  periodStart: Date,
  now: Date,
): Promise<{ purchase: Purchase; subscriber: LockedSubscriber } | { decline: DeclineCode }> {
  const locked = await lockSubscriber(sql, subscriberId);
  const decline = await decideCharge(sql, locked, seller, subscription.amount, now);
  if (decline) return { decline };
  return {
    purchase: periodPurchase(subscription, seller, locked, subscriberId, periodStart, null, now),
    subscriber: locked,
  };
}

export type SubscriptionConfirmation =
  | { outcome: 'confirmed'; subscription: SubscriptionRecord }
  | { outcome: 'declined'; subscription: SubscriptionRecord; code: DeclineCode };

/**
 * Click two for a subscription: the first period is charged at once, in the
 * same statement that activates it. Like a purchase, the first subscriber to
 * confirm owns it, asking again returns the same outcome, anyone else gets 404.
 * Round trips inside the caller's transaction, as for a purchase: lock the
 * subscriber and read everything (the totals included, possibly from before
 * the wait for the lock), then one statement that charges, activates and
 * records the event, guarded by the totals the outcome was decided on.
 */
export async function confirmSubscription(
  sql: Sql,
  subscriptionId: string,
  subscriber: { id: string },
  evidence: ConsentEvidence,
  publicUrl: string,
  now = new Date(),
): Promise<SubscriptionConfirmation> {
  const periods = { weekStart: weekStart(now), monthStart: monthStart(now) };
  const context = await lockForSubscriptionConfirmation(sql, subscriber.id, subscriptionId, periods);
  if (!context) throw notFound('Subscriber');
  const { subscription, seller } = context;
  if (!subscription || !seller) throw notFound('Subscription');
  if (subscription.subscriberId !== null) return offerOutcomeFor(subscription, subscriber);
  const status = purchaseStatus(subscription, now);
  if (status === 'expired') {
    throw new AppError('consent_expired', 'This subscription offer expired before it was confirmed', {
      expiresAt: subscription.expiresAt.toISOString(),
    });
  }
  if (status !== 'pending') throw notFound('Subscription');

  let spent: Spent = context.spentBeforeLock;
  for (let attempt = 1; ; attempt++) {
    const code = decideChargeOn(context.subscriber, seller, subscription.amount, spent);
    const claimed = code
      ? await claimDeclined(sql, subscription, subscriber.id, code, spent, periods)
      : await claimActive(sql, subscription, seller, context.subscriber, evidence, publicUrl, now, spent, periods);
    if (claimed.claim.claimed) return claimed.outcome;
    if (!claimed.claim.spendingMoved) {
      // Another confirmation claimed it between the locking statement's snapshot and our update.
      const current = await findSubscription(sql, subscriptionId);
      if (!current) throw notFound('Subscription');
      return offerOutcomeFor(current, subscriber);
    }
    if (attempt === CLAIM_ATTEMPTS)
      throw new Error(`the totals of subscriber ${subscriber.id} kept moving under its lock`);
    spent = claimed.claim.spentNow;
  }
}

interface ClaimedOffer {
  claim: ClaimResult;
  /** The outcome, should the claim hold. */
  outcome: SubscriptionConfirmation;
}

async function claimDeclined(
  sql: Sql,
  subscription: SubscriptionRecord,
  subscriberId: string,
  code: DeclineCode,
  spent: Spent,
  periods: SpendingPeriods,
): Promise<ClaimedOffer> {
  const declined: SubscriptionRecord = { ...subscription, subscriberId, status: 'declined', declineCode: code };
  const claim = await declineSubscription(sql, declined, spent, periods);
  return { claim, outcome: { outcome: 'declined', subscription: declined, code } };
}

async function claimActive(
  sql: Sql,
  subscription: SubscriptionRecord,
  seller: Seller,
  locked: LockedSubscriber,
  evidence: ConsentEvidence,
  publicUrl: string,
  now: Date,
  spent: Spent,
  periods: SpendingPeriods,
): Promise<ClaimedOffer> {
  const firstPeriod = periodPurchase(subscription, seller, locked, locked.id, now, evidence, now);
  const currentPeriodEnd = nextPeriodEnd(now, subscription.plan, now);
  const active: SubscriptionRecord = {
    ...subscription,
    subscriberId: locked.id,
    status: 'active',
    activatedAt: now,
    currentPeriodStart: now,
    currentPeriodEnd,
    nextAttemptAt: currentPeriodEnd,
  };
  const event = webhookEvent(
    'subscription.activated',
    { ...subscriptionPayload(active, publicUrl, now), purchase: purchasePayload(firstPeriod, publicUrl, now) },
    now,
  );
  const claim = await activateSubscription(sql, active, firstPeriod, event, spent, periods);
  if (claim.claimed) {
    await postConfirmationPoints(sql, firstPeriod, locked, now);
    await notifyOperatorOfCharge(sql, locked, firstPeriod, seller.name, now);
  }
  return { claim, outcome: { outcome: 'confirmed', subscription: active } };
}

/** The answer for an offer someone already confirmed or was declined: theirs to see, or nobody's. */
function offerOutcomeFor(subscription: SubscriptionRecord, subscriber: { id: string }): SubscriptionConfirmation {
  if (subscription.subscriberId !== subscriber.id) throw notFound('Subscription');
  if (subscription.status === 'declined') {
    return { outcome: 'declined', subscription, code: subscription.declineCode as DeclineCode };
  }
  return { outcome: 'confirmed', subscription };
}

export type RenewalOutcome = 'not_due' | 'renewed' | 'past_due' | 'canceled';

/**
 * One renewal attempt, safe to run any number of times: the subscription row is
 * locked and the attempt happens only while it is due, so a job that runs twice,
 * or two workers racing, charge a period once. It charges the period holding
 * `now`, so a late worker or a long past_due spell never bills several periods
 * in a burst.
 */
export async function renewSubscription(
  sql: Sql,
  subscriptionId: string,
  publicUrl: string,
  now = new Date(),
): Promise<RenewalOutcome> {
  const found = await lockSubscriptionWithSeller(sql, subscriptionId);
  if (!found) return 'not_due';
  const { subscription, seller } = found;
  if (subscription.status !== 'active' && subscription.status !== 'past_due') return 'not_due';
  const { subscriberId, activatedAt, currentPeriodEnd, nextAttemptAt } = subscription;
  if (!subscriberId || !activatedAt || !currentPeriodEnd || !nextAttemptAt) {
    throw new Error(`Subscription ${subscription.id} is ${subscription.status} without its period`);
  }
  if (nextAttemptAt > now) return 'not_due';

  const period = periodHolding(activatedAt, subscription.plan, currentPeriodEnd, now);
  const charged = await chargeRenewal(sql, subscription, seller, subscriberId, period.start, now);
  if ('purchase' in charged) {
    await insertPeriodPurchase(sql, charged.purchase);
    await postConfirmationPoints(sql, charged.purchase, charged.subscriber, now);
  }
  const step = renewalStep(
    { status: subscription.status, dueAt: currentPeriodEnd, renewalAttempts: subscription.renewalAttempts },
    'decline' in charged ? { decline: charged.decline } : { paid: period },
  );
  const updated: SubscriptionRecord = {
    ...subscription,
    status: step.status,
    renewalAttempts: step.renewalAttempts,
    nextAttemptAt: step.nextAttemptAt,
    declineCode: 'decline' in charged ? charged.decline : null,
    ...(step.status === 'active'
      ? { currentPeriodStart: step.currentPeriodStart, currentPeriodEnd: step.currentPeriodEnd }
      : {}),
    ...(step.status === 'canceled' ? { canceledAt: now } : {}),
  };
  await saveSubscriptionState(sql, updated);
  if (step.event) {
    const data = subscriptionPayload(updated, publicUrl, now);
    await recordEvent(
      sql,
      subscription.publisherId,
      step.event,
      'purchase' in charged ? { ...data, purchase: purchasePayload(charged.purchase, publicUrl, now) } : data,
      now,
    );
  }
  // The renewal is the operator's receipt; spend reminders as for any charge.
  if ('purchase' in charged && step.status === 'active') {
    await notifyOperatorOfCharge(sql, charged.subscriber, charged.purchase, seller.name, now, {
      subscriptionId: subscription.id,
      plan: subscription.plan,
      currentPeriodEnd: step.currentPeriodEnd,
    });
  }
  return step.status === 'active' ? 'renewed' : step.status;
}

/** cancelSubscription as a transaction of its own, for a caller with no idempotency key to commit beside it. */
export function cancelSubscriptionAlone(
  database: Database,
  subscriptionId: string,
  viewer: SubscriptionViewer,
  publicUrl: string,
): Promise<SubscriptionRecord> {
  return database.transaction((sql) => cancelSubscription(sql, subscriptionId, viewer, publicUrl));
}

/** Cancel by its publisher or its subscriber; canceling again answers the same. */
export async function cancelSubscription(
  sql: Sql,
  subscriptionId: string,
  viewer: SubscriptionViewer,
  publicUrl: string,
  now = new Date(),
): Promise<SubscriptionRecord> {
  const subscription = await lockSubscription(sql, subscriptionId);
  const owns =
    subscription !== null &&
    (viewer.kind === 'publisher'
      ? subscription.publisherId === viewer.publisherId
      : subscription.subscriberId === viewer.subscriberId);
  if (!subscription || !owns) throw notFound('Subscription');
  if (subscription.status === 'canceled') return subscription;
  const status = purchaseStatus(subscription, now);
  if (status !== 'pending' && status !== 'active' && status !== 'past_due') {
    throw invalidState(`A ${status} subscription cannot be canceled`, { status });
  }
  const canceled: SubscriptionRecord = { ...subscription, status: 'canceled', canceledAt: now, nextAttemptAt: null };
  await saveSubscriptionState(sql, canceled);
  await recordEvent(
    sql,
    subscription.publisherId,
    'subscription.canceled',
    subscriptionPayload(canceled, publicUrl, now),
    now,
  );
  return canceled;
}

/** Subscriptions whose renewal (or retry) is due, oldest first, read from PostgreSQL, the record. */
export async function dueSubscriptions(
  db: Sql,
  now: Date,
  limit: number,
  scope: SweepScope = {},
): Promise<{ id: string; nextAttemptAt: Date }[]> {
  return dueSubscriptionIds(db, now, limit, scope.publisherIds ?? null);
}
