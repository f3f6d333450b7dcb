import type { Prisma } from '../generated/prisma/client.js';
import type { PurchaseStatus, SubscriptionStatus } from '../shared/catalogue.js';
import type { BillingRunRecord } from './billing-run-records.js';
import type { StoredRunStatus } from './billing-session.js';
import type { Database } from './database.js';
import { decimalOf, type PurchaseRecord, type SubscriptionRecord } from './records.js';
import type { SettlementRecord } from './settlements.js';
import type { WebhookEventRecord, WebhookEventState } from './webhooks.js';

/*
 * The API's paged listings, through Prisma's typed client (src/store/database.ts): each reads one model (with
 * its own attempts, for webhook events), newest first by id, since ids are time-ordered; a page is up to `take`
 * rows with ids below the cursor `before`. Records leave here as the pg reads of the same rows hand them over:
 * decimal.js money, statuses as unions.
 */

/** A page's cursor: rows with ids below `before`, in the API's order (newest first). */
interface Page {
  take: number;
  before: string | null;
}

function below(before: string | null): { lt: string } | undefined {
  return before === null ? undefined : { lt: before };
}

const PURCHASE = {
  id: true,
  publisherId: true,
  subscriberId: true,
  subscriptionId: true,
  subscriptionPeriodStart: true,
  kind: true,
  credits: true,
  amount: true,
  currency: true,
  description: true,
  channel: true,
  returnUrl: true,
  status: true,
  declineCode: true,
  createdAt: true,
  expiresAt: true,
  confirmedAt: true,
  commissionRate: true,
  commissionAmount: true,
  refundedAmount: true,
  chargedBackAmount: true,
  invoiceId: true,
  vatRate: true,
  consentIp: true,
  consentUserAgent: true,
  consentPageVersion: true,
  consentAssertionId: true,
  pointsSpent: true,
  pointsEarned: true,
  pointValue: true,
} satisfies Prisma.PurchaseSelect;

function toPurchase(row: Prisma.PurchaseGetPayload<{ select: typeof PURCHASE }>): PurchaseRecord {
  return {
    ...row,
    kind: row.kind as PurchaseRecord['kind'],
    channel: row.channel as PurchaseRecord['channel'],
    status: row.status as PurchaseRecord['status'],
    amount: decimalOf(row.amount),
    commissionRate: decimalOf(row.commissionRate),
    commissionAmount: decimalOf(row.commissionAmount),
    refundedAmount: decimalOf(row.refundedAmount),
    chargedBackAmount: decimalOf(row.chargedBackAmount),
    vatRate: decimalOf(row.vatRate),
    pointValue: decimalOf(row.pointValue),
  };
}

const SUBSCRIPTION = {
  id: true,
  publisherId: true,
  subscriberId: true,
  plan: true,
  amount: true,
  currency: true,
  description: true,
  channel: true,
  returnUrl: true,
  status: true,
  declineCode: true,
  createdAt: true,
  expiresAt: true,
  activatedAt: true,
  currentPeriodStart: true,
  currentPeriodEnd: true,
  renewalAttempts: true,
  nextAttemptAt: true,
  canceledAt: true,
  vatRate: true,
} satisfies Prisma.SubscriptionSelect;

function toSubscription(row: Prisma.SubscriptionGetPayload<{ select: typeof SUBSCRIPTION }>): SubscriptionRecord {
  return {
    ...row,
    plan: row.plan as SubscriptionRecord['plan'],
    channel: row.channel as SubscriptionRecord['channel'],
    status: row.status as SubscriptionRecord['status'],
    amount: decimalOf(row.amount),
    vatRate: decimalOf(row.vatRate),
  };
}

/**
 * The status filter as the API shows statuses: a pending offer past its expiry (at `now`) is expired, whether
 * or not the sweep has written it yet. Purchases and subscription offers read it alike.
 */
function shownAs<S extends string>(
  status: S | null,
  now: Date,
): { status?: S | 'pending'; expiresAt?: { gt: Date }; OR?: Array<{ status: string; expiresAt?: { lte: Date } }> } {
  if (status === null) return {};
  if (status === 'pending') return { status: 'pending', expiresAt: { gt: now } };
  if (status === 'expired') return { OR: [{ status: 'expired' }, { status: 'pending', expiresAt: { lte: now } }] };
  return { status };
}

/** Up to `take` of a publisher's purchases with ids below `before`, newest first, of a status as shown at `now`. */
export async function publisherPurchases(
  database: Database,
  publisherId: string,
  query: Page & { status: PurchaseStatus | null; now: Date },
): Promise<PurchaseRecord[]> {
  const rows = await database.prisma.purchase.findMany({
    where: { publisherId, id: below(query.before), ...shownAs(query.status, query.now) },
    orderBy: { id: 'desc' },
    take: query.take,
    select: PURCHASE,
  });
  return rows.map(toPurchase);
}

/** Up to `take` of a publisher's subscriptions with ids below `before`, newest first, of a status as shown at `now`. */
export async function publisherSubscriptions(
  database: Database,
  publisherId: string,
  query: Page & { status: SubscriptionStatus | null; now: Date },
): Promise<SubscriptionRecord[]> {
  const rows = await database.prisma.subscription.findMany({
    where: { publisherId, id: below(query.before), ...shownAs(query.status, query.now) },
    orderBy: { id: 'desc' },
    take: query.take,
    select: SUBSCRIPTION,
  });
  return rows.map(toSubscription);
}

/** Up to `take` of a subscriber's own subscriptions with ids below `before`, newest first. */
export async function subscriberSubscriptions(
  database: Database,
  subscriberId: string,
  query: Page,
): Promise<SubscriptionRecord[]> {
  const rows = await database.prisma.subscription.findMany({
    where: { subscriberId, id: below(query.before) },
    orderBy: { id: 'desc' },
    take: query.take,
    select: SUBSCRIPTION,
  });
  return rows.map(toSubscription);
}

/** Up to `take` of a subscriber's own purchases with ids below `before`, newest first. */
export async function subscriberPurchases(
  database: Database,
  subscriberId: string,
  query: Page,
): Promise<PurchaseRecord[]> {
  const rows = await database.prisma.purchase.findMany({
    where: { subscriberId, id: below(query.before) },
    orderBy: { id: 'desc' },
    take: query.take,
    select: PURCHASE,
  });
  return rows.map(toPurchase);
}

const BILLING_RUN = {
  id: true,
  operatorId: true,
  through: true,
  status: true,
  invoiceCount: true,
  total: true,
  error: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
} satisfies Prisma.BillingRunSelect;

/** Up to `take` of an operator's billing runs with ids below `before`, newest first. */
export async function operatorBillingRuns(
  database: Database,
  operatorId: string,
  query: Page,
): Promise<BillingRunRecord[]> {
  const rows = await database.prisma.billingRun.findMany({
    where: { operatorId, id: below(query.before) },
    orderBy: { id: 'desc' },
    take: query.take,
    select: BILLING_RUN,
  });
  return rows.map((row) => ({ ...row, status: row.status as StoredRunStatus, total: decimalOf(row.total) }));
}

const SETTLEMENT = {
  billingRunId: true,
  operatorId: true,
  publisherId: true,
  through: true,
  gross: true,
  commission: true,
  refunds: true,
  chargebacks: true,
  pointsIssuedValue: true,
  pointsRedeemedValue: true,
  net: true,
} satisfies Prisma.SettlementSelect;

/**
 * Up to `take` of a publisher's settlements by its sandbox operators' runs or by its live ones' (never both),
 * of runs below `before`, newest first.
 */
export async function publisherSettlementRecords(
  database: Database,
  publisherId: string,
  query: Page & { sandbox: boolean },
): Promise<SettlementRecord[]> {
  const rows = await database.prisma.settlement.findMany({
    where: { publisherId, billingRun: { operator: { sandbox: query.sandbox } }, billingRunId: below(query.before) },
    orderBy: { billingRunId: 'desc' },
    take: query.take,
    select: SETTLEMENT,
  });
  return rows.map((row) => ({
    ...row,
    gross: decimalOf(row.gross),
    commission: decimalOf(row.commission),
    refunds: decimalOf(row.refunds),
    chargebacks: decimalOf(row.chargebacks),
    pointsIssuedValue: decimalOf(row.pointsIssuedValue),
    pointsRedeemedValue: decimalOf(row.pointsRedeemedValue),
    net: decimalOf(row.net),
  }));
}

/** What an event's delivery state means in its timestamps. */
const EVENT_STATES: Record<WebhookEventState, Prisma.OutboxEventWhereInput> = {
  pending: { deliveredAt: null, failedAt: null, skippedAt: null },
  delivered: { deliveredAt: { not: null } },
  failed: { deliveredAt: null, failedAt: { not: null } },
  skipped: { skippedAt: { not: null } },
};

/** Up to `take` of a publisher's webhook events with ids below `before`, newest first, each with its attempts. */
export async function publisherEvents(
  database: Database,
  publisherId: string,
  query: Page & { state: WebhookEventState | null },
): Promise<WebhookEventRecord[]> {
  const rows = await database.prisma.outboxEvent.findMany({
    where: { publisherId, id: below(query.before), ...(query.state ? EVENT_STATES[query.state] : {}) },
    orderBy: { id: 'desc' },
    take: query.take,
    select: {
      id: true,
      type: true,
      payload: true,
      createdAt: true,
      deliveredAt: true,
      failedAt: true,
      skippedAt: true,
      nextAttemptAt: true,
      deliveries: {
        orderBy: { id: 'asc' },
        select: { attemptedAt: true, statusCode: true, error: true, durationMs: true },
      },
    },
  });
  return rows.map(({ deliveries, ...event }) => ({ ...event, attempts: deliveries }));
}
