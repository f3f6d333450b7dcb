import { periodBoundary } from '../../src/domain/plan-periods.js';
import type { TestGateway } from './harness.js';

/*
 * Rows the test files from pages.* to webhooks.* put in a state no API puts
 * them in (an offer whose time ran out, a period already over, a chargeback
 * from the bank), or read where the API would hide what the test checks:
 * named once here instead of written out in each file. Purchases' rows are
 * in fixtures.ts.
 */

/** Moves a pending subscription offer's expiry into the past, as if its time to be accepted were over. */
export async function expireSubscriptionOffer(gw: TestGateway, id: string): Promise<void> {
  await gw.ctx.database.prisma.subscription.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
}

/**
 * Moves an active weekly subscription and its first charge one period back, as
 * if it had been accepted a week ago: its period ended a minute ago and it is
 * due. Returns the end of that period, the start of the one to charge.
 */
export async function makeSubscriptionDue(gw: TestGateway, id: string): Promise<Date> {
  const anchor = periodBoundary(new Date(Date.now() - 60_000), 'weekly', -1);
  const end = periodBoundary(anchor, 'weekly', 1);
  await gw.ctx.database.prisma.purchase.updateMany({
    where: { subscriptionId: id },
    data: { subscriptionPeriodStart: anchor },
  });
  await gw.ctx.database.prisma.subscription.update({
    where: { id },
    data: { activatedAt: anchor, currentPeriodStart: anchor, currentPeriodEnd: end, nextAttemptAt: end },
  });
  return end;
}

/** A pending purchase as if it had been offered at `at`: created then, and its ten minutes over since. */
export async function backdatePurchase(gw: TestGateway, id: string, at: Date): Promise<void> {
  await gw.ctx.database.prisma.purchase.update({
    where: { id },
    data: { createdAt: at, expiresAt: new Date(at.getTime() + 600_000) },
  });
}

/** Records on a purchase's row that the bank charged `amount` back, as a chargeback report would. */
export async function recordChargeback(gw: TestGateway, id: string, amount: string): Promise<void> {
  await gw.ctx.database.prisma.purchase.update({ where: { id }, data: { chargedBackAmount: amount } });
}

/** Lowers (or raises) an operator's per-purchase ceiling behind the API's back, as another admin session would. */
export async function setLimitPerPurchase(gw: TestGateway, operatorId: string, amount: string): Promise<void> {
  await gw.ctx.database.prisma.operator.update({ where: { id: operatorId }, data: { limitPerPurchase: amount } });
}

/** A subscription's row as stored. */
export function subscriptionRow(gw: TestGateway, id: string) {
  return gw.ctx.database.prisma.subscription.findUniqueOrThrow({ where: { id } });
}

/** The status a subscription's row holds. */
export async function storedSubscriptionStatus(gw: TestGateway, id: string): Promise<string> {
  return (await subscriptionRow(gw, id)).status;
}

/** A subscriber's row as stored, by the operator's reference for it. */
export function subscriberRow(gw: TestGateway, operatorId: string, externalRef: string) {
  return gw.ctx.database.prisma.subscriber.findFirstOrThrow({ where: { operatorId, externalRef } });
}

/** The dispute opened on a purchase, as stored. */
export function disputeOfPurchase(gw: TestGateway, purchaseId: string) {
  return gw.ctx.database.prisma.dispute.findFirstOrThrow({ where: { purchaseId } });
}

/** The status a dispute's row holds. */
export async function storedDisputeStatus(gw: TestGateway, id: string): Promise<string> {
  return (await gw.ctx.database.prisma.dispute.findUniqueOrThrow({ where: { id } })).status;
}

/** An outbox event's row: when it was delivered, failed, or is next due. */
export function outboxEventRow(gw: TestGateway, id: string) {
  return gw.ctx.database.prisma.outboxEvent.findUniqueOrThrow({ where: { id } });
}

/** A publisher's row as stored. */
export function publisherRow(gw: TestGateway, id: string) {
  return gw.ctx.database.prisma.publisher.findUniqueOrThrow({ where: { id } });
}

/** The purchases charged for a subscription, one per period, oldest period first. */
export function subscriptionCharges(gw: TestGateway, subscriptionId: string) {
  return gw.ctx.database.prisma.purchase.findMany({
    where: { subscriptionId },
    orderBy: { subscriptionPeriodStart: 'asc' },
  });
}

/** The events recorded in a publisher's outbox (of one type, if given), in the order recorded. */
export function publisherEvents(gw: TestGateway, publisherId: string, type?: string) {
  return gw.ctx.database.prisma.outboxEvent.findMany({
    where: { publisherId, ...(type ? { type } : {}) },
    orderBy: { id: 'asc' },
  });
}

/** How many publishers are stored under `name`: 0 after a refused registration. */
export function storedPublishersNamed(gw: TestGateway, name: string): Promise<number> {
  return gw.ctx.database.prisma.publisher.count({ where: { name } });
}

/** How many subscribers are stored under the reference `externalRef`: 0 after a refused provisioning. */
export function storedSubscribersWithRef(gw: TestGateway, externalRef: string): Promise<number> {
  return gw.ctx.database.prisma.subscriber.count({ where: { externalRef } });
}

/** How many refunds are stored against a purchase. */
export function refundCount(gw: TestGateway, purchaseId: string): Promise<number> {
  return gw.ctx.database.prisma.refund.count({ where: { purchaseId } });
}
