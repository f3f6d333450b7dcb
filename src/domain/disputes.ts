import { within, type SweepScope } from '../store/sweep-scope.js';
import type { Dispute, Purchase, Refund, Subscriber } from '../generated/prisma/client.js';
import type { Db, Tx } from '../store/db.js';
import { onPrisma } from '../store/sql.js';
import { newId } from '../ids.js';
import { suspendIfAboveRate, type SuspensionPolicy } from './dispute-rate.js';
import { invalidState, notFound } from './errors.js';
import { recordEvent } from './events.js';
import { refundableAmount, refundPurchase } from './purchases.js';
import { consentResource, purchaseResource, purchaseStatus, refundResource } from './resources.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** A purchase can be disputed up to 365 days after its confirmation. */
export const DISPUTE_WINDOW_MS = 365 * DAY_MS;
/** The publisher answers within 7 days, or the dispute closes as lost. */
export const RESPONSE_WINDOW_MS = 7 * DAY_MS;

export type DisputeStatus = 'open' | 'under_review' | 'won' | 'lost';
export type DisputeOutcome = 'won' | 'lost';
export type DisputeOpener = 'subscriber' | 'operator';

export type DisputeAction =
  { type: 'accept' } | { type: 'contest' } | { type: 'resolve'; outcome: DisputeOutcome } | { type: 'expire' };

/**
 * The dispute state machine: open → lost (accepted or unanswered in time),
 * open → under_review (contested), under_review → won | lost (the operator's
 * decision). Closed disputes never move again.
 */
export function nextDisputeStatus(
  dispute: { status: string; respondBy: Date },
  action: DisputeAction,
  now: Date,
): DisputeStatus {
  const overdue = dispute.respondBy <= now;
  switch (action.type) {
    case 'accept':
    case 'contest':
      if (dispute.status !== 'open')
        throw invalidState(`A dispute ${dispute.status} takes no publisher response`, { status: dispute.status });
      if (overdue) {
        throw invalidState('The response deadline has passed; the dispute closes as lost', {
          respondBy: dispute.respondBy.toISOString(),
        });
      }
      return action.type === 'accept' ? 'lost' : 'under_review';
    case 'resolve':
      if (dispute.status !== 'under_review') {
        throw invalidState(`Only a contested dispute can be resolved; this one is ${dispute.status}`, {
          status: dispute.status,
        });
      }
      return action.outcome;
    case 'expire':
      if (dispute.status !== 'open' || !overdue)
        throw invalidState('Only an open dispute past its deadline expires', { status: dispute.status });
      return 'lost';
  }
}

/** Throws 409 unless the purchase can be disputed now: confirmed, and confirmed at most 365 days ago. */
export function assertDisputable(purchase: Pick<Purchase, 'status' | 'expiresAt' | 'confirmedAt'>, now: Date): void {
  if (purchase.status === 'disputed')
    throw invalidState('This purchase already has a dispute open', { status: 'disputed' });
  if (purchase.status !== 'confirmed' || purchase.confirmedAt === null) {
    const status = purchaseStatus(purchase, now);
    throw invalidState(`A ${status} purchase cannot be disputed`, { status });
  }
  if (now.getTime() - purchase.confirmedAt.getTime() > DISPUTE_WINDOW_MS) {
    throw invalidState('A purchase can be disputed only within 365 days of its confirmation', {
      confirmedAt: purchase.confirmedAt.toISOString(),
    });
  }
}

export function respondByFor(openedAt: Date): Date {
  return new Date(openedAt.getTime() + RESPONSE_WINDOW_MS);
}

/** Who is asking: each party sees the disputes it is party to, and only those. */
export type DisputeParty =
  | { kind: 'subscriber'; subscriberId: string }
  | { kind: 'operator'; operatorId: string }
  | { kind: 'publisher'; publisherId: string };

export type DisputeWithParties = Dispute & { purchase: Purchase; subscriber: Subscriber; refund: Refund | null };

export function isParty(dispute: DisputeWithParties, party: DisputeParty): boolean {
  switch (party.kind) {
    case 'subscriber':
      return dispute.subscriberId === party.subscriberId;
    case 'operator':
      return dispute.subscriber.operatorId === party.operatorId;
    case 'publisher':
      return dispute.purchase.publisherId === party.publisherId;
  }
}

/**
 * The dispute as the API returns it. Consent evidence goes to the subscriber
 * and to its operator, who decides contested disputes; the publisher (and its
 * webhooks) get the dispute without that personal data.
 */
export function disputeResource(
  dispute: DisputeWithParties,
  viewer: DisputeParty['kind'],
  publicUrl: string,
  now: Date = new Date(),
) {
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
    refund: dispute.refund ? refundResource(dispute.refund) : null,
    purchase: purchaseResource(dispute.purchase, publicUrl, now),
    // The operator's reference for a subscriber may be a phone number: not the publisher's to know.
    ...(viewer === 'publisher'
      ? {}
      : { subscriberRef: dispute.subscriber.externalRef, consent: consentResource(dispute.purchase) }),
  };
}

const withParties = { purchase: true, subscriber: true, refund: true } as const;

export async function findDispute(db: Db | Tx, disputeId: string, party: DisputeParty): Promise<DisputeWithParties> {
  const dispute = await db.dispute.findUnique({ where: { id: disputeId }, include: withParties });
  if (!dispute || !isParty(dispute, party)) throw notFound('Dispute');
  return dispute;
}

export const DISPUTE_STATUSES = ['open', 'under_review', 'won', 'lost'] as const;

/** A party's disputes, newest first, optionally of one status: how an operator finds the contested ones to decide. */
export async function listDisputes(
  db: Db,
  party: DisputeParty,
  filter: { status?: DisputeStatus; cursor?: string; limit: number },
): Promise<DisputeWithParties[]> {
  const scope =
    party.kind === 'subscriber'
      ? { subscriberId: party.subscriberId }
      : party.kind === 'operator'
        ? { subscriber: { operatorId: party.operatorId } }
        : { purchase: { publisherId: party.publisherId } };
  return db.dispute.findMany({
    where: {
      ...scope,
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.cursor ? { id: { lt: filter.cursor } } : {}),
    },
    orderBy: { id: 'desc' },
    take: filter.limit,
    include: withParties,
  });
}

/** Locks the dispute row first, then (when it changes) its purchase: every dispute transition takes them in this order. */
async function lockDispute(tx: Tx, disputeId: string, party: DisputeParty | null): Promise<DisputeWithParties> {
  await tx.$queryRaw`SELECT 1 FROM disputes WHERE id = ${disputeId} FOR UPDATE`;
  const dispute = await tx.dispute.findUnique({ where: { id: disputeId }, include: withParties });
  if (!dispute || (party && !isParty(dispute, party))) throw notFound('Dispute');
  return dispute;
}

export interface DisputeSettings {
  publicUrl: string;
  suspension: SuspensionPolicy;
}

export interface NewDispute {
  purchaseId: string;
  subscriber: Subscriber;
  openedBy: DisputeOpener;
  reason: string;
}

/**
 * Opens a dispute on one of the subscriber's confirmed purchases. The purchase
 * row lock serializes concurrent attempts: the first makes it `disputed`, the
 * others then find it so and get 409 (the partial unique index is the backstop).
 */
export async function openDispute(
  tx: Tx,
  input: NewDispute,
  settings: DisputeSettings,
  now: Date = new Date(),
): Promise<DisputeWithParties> {
  await tx.$queryRaw`SELECT 1 FROM purchases WHERE id = ${input.purchaseId} FOR UPDATE`;
  const purchase = await tx.purchase.findUnique({ where: { id: input.purchaseId } });
  if (!purchase || purchase.subscriberId !== input.subscriber.id) throw notFound('Purchase');
  assertDisputable(purchase, now);
  const created = await tx.dispute.create({
    data: {
      id: newId('dsp', now.getTime()),
      purchaseId: purchase.id,
      subscriberId: input.subscriber.id,
      reason: input.reason,
      status: 'open',
      openedBy: input.openedBy,
      respondBy: respondByFor(now),
      createdAt: now,
    },
  });
  await tx.purchase.update({ where: { id: purchase.id }, data: { status: 'disputed' } });
  const dispute = await tx.dispute.findUniqueOrThrow({ where: { id: created.id }, include: withParties });
  await recordEvent(
    tx,
    purchase.publisherId,
    'dispute.opened',
    disputeResource(dispute, 'publisher', settings.publicUrl, now),
    now,
  );
  await suspendIfAboveRate(tx, purchase.publisherId, settings.suspension, now);
  return dispute;
}

/**
 * Closes a dispute. The purchase leaves `disputed` first, so that a lost
 * dispute refunds it through the one refund path (ceilings freed, credited on
 * the next invoice when already invoiced, `purchase.refunded` sent with the
 * final status) and a won one is simply `confirmed` again.
 */
async function closeDispute(
  tx: Tx,
  dispute: DisputeWithParties,
  outcome: DisputeOutcome,
  changes: { evidence?: string | null; respondedAt?: Date },
  publicUrl: string,
  now: Date,
): Promise<DisputeWithParties> {
  await tx.dispute.update({ where: { id: dispute.id }, data: { ...changes, status: outcome, closedAt: now } });
  await tx.$queryRaw`SELECT 1 FROM purchases WHERE id = ${dispute.purchaseId} FOR UPDATE`;
  const purchase = await tx.purchase.update({ where: { id: dispute.purchaseId }, data: { status: 'confirmed' } });
  if (outcome === 'lost' && refundableAmount(purchase).gt(0)) {
    await refundPurchase(onPrisma(tx), purchase.id, null, 'dispute', publicUrl, { disputeId: dispute.id }, now);
  }
  const closed = await tx.dispute.findUniqueOrThrow({ where: { id: dispute.id }, include: withParties });
  await recordEvent(
    tx,
    closed.purchase.publisherId,
    'dispute.closed',
    disputeResource(closed, 'publisher', publicUrl, now),
    now,
  );
  return closed;
}

export interface PublisherResponse {
  accept: boolean;
  evidence: string | null;
}

/** The publisher accepts (the dispute is lost, the purchase refunded) or contests it with evidence for the operator. */
export async function respondToDispute(
  tx: Tx,
  disputeId: string,
  publisherId: string,
  response: PublisherResponse,
  publicUrl: string,
  now: Date = new Date(),
): Promise<DisputeWithParties> {
  const dispute = await lockDispute(tx, disputeId, { kind: 'publisher', publisherId });
  const next = nextDisputeStatus(dispute, { type: response.accept ? 'accept' : 'contest' }, now);
  const changes = { evidence: response.evidence, respondedAt: now };
  if (next === 'lost') return closeDispute(tx, dispute, 'lost', changes, publicUrl, now);
  await tx.dispute.update({ where: { id: dispute.id }, data: { ...changes, status: next } });
  return tx.dispute.findUniqueOrThrow({ where: { id: dispute.id }, include: withParties });
}

/** The operator of the disputing subscriber decides a contested dispute. */
export async function resolveDispute(
  tx: Tx,
  disputeId: string,
  operatorId: string,
  outcome: DisputeOutcome,
  publicUrl: string,
  now: Date = new Date(),
): Promise<DisputeWithParties> {
  const dispute = await lockDispute(tx, disputeId, { kind: 'operator', operatorId });
  nextDisputeStatus(dispute, { type: 'resolve', outcome }, now);
  return closeDispute(tx, dispute, outcome, {}, publicUrl, now);
}

/**
 * Closes one unanswered dispute past its deadline as lost. Returns null when
 * there is nothing to do (already answered, closed, or not yet due), which is
 * what makes a deadline job safe to run twice.
 */
export async function expireDispute(
  tx: Tx,
  disputeId: string,
  publicUrl: string,
  now: Date,
): Promise<DisputeWithParties | null> {
  const dispute = await lockDispute(tx, disputeId, null);
  if (dispute.status !== 'open' || dispute.respondBy > now) return null;
  nextDisputeStatus(dispute, { type: 'expire' }, now);
  return closeDispute(tx, dispute, 'lost', {}, publicUrl, now);
}

/**
 * Closes every open dispute whose deadline has passed, read from PostgreSQL,
 * one transaction per dispute. Returns how many this call closed.
 */
export async function sweepOverdueDisputes(
  db: Db,
  publicUrl: string,
  now: Date,
  batchSize = 100,
  scope: SweepScope = {},
): Promise<number> {
  let closed = 0;
  const scoped = scope.publisherIds ? { purchase: within('publisherId', scope.publisherIds) } : {};
  for (;;) {
    const due = await db.dispute.findMany({
      where: { status: 'open', respondBy: { lte: now }, ...scoped },
      orderBy: { respondBy: 'asc' },
      take: batchSize,
      select: { id: true },
    });
    for (const { id } of due) {
      const result = await db.$transaction((tx) => expireDispute(tx, id, publicUrl, now));
      if (result) closed += 1;
    }
    if (due.length < batchSize) return closed;
  }
}
