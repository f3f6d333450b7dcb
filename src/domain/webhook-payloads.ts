import type { DisputeWithParties } from '../store/disputes.js';
import { formatAmount } from './money.js';
import { Decimal } from '../shared/money.js';
import { purchaseStatus } from './offer-status.js';
import { vatIncluded, vatRateString } from './vat.js';

/*
 * What webhooks carry, built in the transaction of the change they report. docs/webhooks.md
 * fixes these shapes, and the API shows the same resources (src/http/presenters).
 */

/** What the purchase payload shows, from a store record. */
export interface PurchaseView {
  id: string;
  status: string;
  amount: Decimal;
  currency: string;
  channel: string;
  kind: string;
  credits: number | null;
  description: string;
  publisherId: string;
  subscriptionId: string | null;
  declineCode: string | null;
  refundedAmount: Decimal;
  chargedBackAmount: Decimal;
  vatRate: Decimal | null;
  returnUrl: string | null;
  createdAt: Date;
  expiresAt: Date;
  confirmedAt: Date | null;
  consentIp: string | null;
  consentUserAgent: string | null;
  consentPageVersion: string | null;
  consentAssertionId: string | null;
  pointsSpent: number;
  pointsEarned: number;
  pointValue: Decimal | null;
}

export interface RefundView {
  id: string;
  purchaseId: string;
  amount: Decimal;
  reason: string;
  createdAt: Date;
}

export function consentUrl(publicUrl: string, purchaseId: string): string {
  return `${publicUrl}/consent/purchases/${purchaseId}`;
}

/** docs/money.md: the VAT inside a purchase's VAT-inclusive amount, at the rate fixed when it was created. */
function purchaseVat(purchase: PurchaseView) {
  if (purchase.vatRate === null) return { vatRate: null, vatAmount: null };
  return {
    vatRate: vatRateString(purchase.vatRate),
    vatAmount: formatAmount(vatIncluded(purchase.amount, purchase.vatRate)),
  };
}

/**
 * Kiosque Points on a purchase, when any moved: `amount` is then the euro part
 * (what is billed), `price` what the publisher asked, and the points paid the difference.
 */
function purchasePoints(purchase: PurchaseView) {
  if (purchase.pointsSpent === 0 && purchase.pointsEarned === 0) return {};
  const value = (purchase.pointValue ?? new Decimal(0)).times(purchase.pointsSpent);
  return {
    price: formatAmount(value.plus(purchase.amount)),
    pointsSpent: purchase.pointsSpent,
    pointsValue: formatAmount(value),
    pointsEarned: purchase.pointsEarned,
  };
}

/** The purchase as the API returns it, and as webhooks carry it. */
export function purchasePayload(purchase: PurchaseView, publicUrl: string, now: Date = new Date()) {
  const status = purchaseStatus(purchase, now);
  return {
    id: purchase.id,
    object: 'purchase',
    status,
    amount: formatAmount(purchase.amount),
    currency: purchase.currency,
    channel: purchase.channel,
    kind: purchase.kind,
    ...(purchase.credits !== null ? { credits: purchase.credits } : {}),
    description: purchase.description,
    publisherId: purchase.publisherId,
    ...(purchase.subscriptionId ? { subscriptionId: purchase.subscriptionId } : {}),
    ...(purchase.declineCode ? { declineCode: purchase.declineCode } : {}),
    refundedAmount: formatAmount(purchase.refundedAmount),
    chargedBackAmount: formatAmount(purchase.chargedBackAmount),
    ...purchasePoints(purchase),
    ...purchaseVat(purchase),
    ...(status === 'pending' ? { consentUrl: consentUrl(publicUrl, purchase.id) } : {}),
    returnUrl: purchase.returnUrl,
    createdAt: purchase.createdAt.toISOString(),
    expiresAt: purchase.expiresAt.toISOString(),
    confirmedAt: purchase.confirmedAt?.toISOString() ?? null,
  };
}

export function refundPayload(refund: RefundView) {
  return {
    id: refund.id,
    object: 'refund',
    purchaseId: refund.purchaseId,
    amount: formatAmount(refund.amount),
    reason: refund.reason,
    createdAt: refund.createdAt.toISOString(),
  };
}

export function subscriptionConsentUrl(publicUrl: string, subscriptionId: string): string {
  return `${publicUrl}/consent/subscriptions/${subscriptionId}`;
}

export interface SubscriptionView {
  id: string;
  status: string;
  plan: string;
  amount: Decimal;
  currency: string;
  channel: string;
  description: string;
  publisherId: string;
  declineCode: string | null;
  returnUrl: string | null;
  createdAt: Date;
  expiresAt: Date;
  activatedAt: Date | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  nextAttemptAt: Date | null;
  canceledAt: Date | null;
}

/** The subscription as the API returns it, and as webhooks carry it; unconfirmed past expiry reads as expired. */
export function subscriptionPayload(subscription: SubscriptionView, publicUrl: string, now: Date = new Date()) {
  const status = purchaseStatus(subscription, now);
  return {
    id: subscription.id,
    object: 'subscription',
    status,
    plan: subscription.plan,
    amount: formatAmount(subscription.amount),
    currency: subscription.currency,
    channel: subscription.channel,
    description: subscription.description,
    publisherId: subscription.publisherId,
    ...(subscription.declineCode ? { declineCode: subscription.declineCode } : {}),
    ...(status === 'pending' ? { consentUrl: subscriptionConsentUrl(publicUrl, subscription.id) } : {}),
    returnUrl: subscription.returnUrl,
    createdAt: subscription.createdAt.toISOString(),
    expiresAt: subscription.expiresAt.toISOString(),
    activatedAt: subscription.activatedAt?.toISOString() ?? null,
    currentPeriodStart: subscription.currentPeriodStart?.toISOString() ?? null,
    currentPeriodEnd: subscription.currentPeriodEnd?.toISOString() ?? null,
    nextRenewalAttemptAt: subscription.nextAttemptAt?.toISOString() ?? null,
    canceledAt: subscription.canceledAt?.toISOString() ?? null,
  };
}

/** The dispute as its publisher sees it, in the API and in its webhooks: without the subscriber's personal data. */
export function disputePayload(dispute: DisputeWithParties, publicUrl: string, now: Date = new Date()) {
  return {
    id: dispute.id,
    object: 'dispute',
    purchaseId: dispute.purchaseId,
    status: dispute.status,
    reason: dispute.reason,
    openedBy: dispute.openedBy,
    respondBy: dispute.respondBy.toISOString(),
    evidence: dispute.evidence,
    respondedAt: dispute.respondedAt?.toISOString() ?? null,
    closedAt: dispute.closedAt?.toISOString() ?? null,
    createdAt: dispute.createdAt.toISOString(),
    refund: dispute.refund ? refundPayload(dispute.refund) : null,
    purchase: purchasePayload(dispute.purchase, publicUrl, now),
  };
}
