import type { Database } from '../store/database.js';
import {
  findDispute as findDisputeRecord,
  insertDispute,
  lockDispute as lockDisputeRecord,
  overdueDisputeIds,
  partyDisputes,
  reinstatePurchase,
  saveDispute,
  type DisputeOpener,
  type DisputeRecord,
  type DisputeStatus,
  type DisputeWithParties,
} from '../store/disputes.js';
import { lockPurchase } from '../store/purchases.js';
import type { Sql } from '../store/sql.js';
import type { SweepScope } from '../store/sweep-scope.js';
import { newId } from '../ids.js';
import { suspendIfAboveRate, type SuspensionPolicy } from './dispute-rate.js';
import { invalidState, notFound } from './errors.js';
import { recordEvent } from './events.js';
import { refundableAmount, refundPurchase } from './purchases.js';
import { purchaseStatus } from './offer-status.js';
import { disputePayload } from './webhook-payloads.js';

export type { DisputeOpener, DisputeStatus, DisputeWithParties };

const DAY_MS = 24 * 60 * 60 * 1000;
/** A purchase can be disputed up to 365 days after its confirmation. */
export const DISPUTE_WINDOW_MS = 365 * DAY_MS;
/** The publisher answers within 7 days, or the dispute closes as lost. */
export const RESPONSE_WINDOW_MS = 7 * DAY_MS;

export type DisputeOutcome = 'won' | 'lost';

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
export function assertDisputable(
  purchase: { status: string; expiresAt: Date; confirmedAt: Date | null },
  now: Date,
): void {
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

export const DISPUTE_STATUSES = ['open', 'under_review', 'won', 'lost'] as const satisfies readonly DisputeStatus[];

export async function findDispute(sql: Sql, disputeId: string, party: DisputeParty): Promise<DisputeWithParties> {
  const dispute = await findDisputeRecord(sql, disputeId);
  if (!dispute || !isParty(dispute, party)) throw notFound('Dispute');
  return dispute;
}

function partyId(party: DisputeParty): string {
  switch (party.kind) {
    case 'subscriber':
      return party.subscriberId;
    case 'operator':
      return party.operatorId;
    case 'publisher':
      return party.publisherId;
  }
}

/** A party's disputes, newest first, optionally of one status: how an operator finds the contested ones to decide. */
export async function listDisputes(
  sql: Sql,
  party: DisputeParty,
  filter: { status?: DisputeStatus; cursor?: string; limit: number },
): Promise<DisputeWithParties[]> {
  return partyDisputes(sql, party.kind, partyId(party), {
    status: filter.status ?? null,
    before: filter.cursor ?? null,
    take: filter.limit,
  });
}

/**
 * Locks the dispute row first, then (when it changes) its purchase: every
 * dispute transition takes them in this order.
 */
async function lockDispute(sql: Sql, disputeId: string, party: DisputeParty | null): Promise<DisputeWithParties> {
  const dispute = await lockDisputeRecord(sql, disputeId);
  if (!dispute || (party && !isParty(dispute, party))) throw notFound('Dispute');
  return dispute;
}

export interface DisputeSettings {
  publicUrl: string;
  suspension: SuspensionPolicy;
}

export interface NewDispute {
  purchaseId: string;
  subscriber: { id: string };
  openedBy: DisputeOpener;
  reason: string;
}

/** openDispute as a transaction of its own, for a caller with no idempotency key to commit beside it. */
export function openDisputeAlone(
  database: Database,
  input: NewDispute,
  settings: DisputeSettings,
): Promise<DisputeWithParties> {
  return database.transaction((sql) => openDispute(sql, input, settings));
}

/**
 * Opens a dispute on one of the subscriber's confirmed purchases. The purchase
 * row lock serializes concurrent attempts: the first makes it `disputed`, the
 * others then find it so and get 409 (the partial unique index is the backstop).
 */
export async function openDispute(
  sql: Sql,
  input: NewDispute,
  settings: DisputeSettings,
  now: Date = new Date(),
): Promise<DisputeWithParties> {
  const purchase = await lockPurchase(sql, input.purchaseId);
  if (!purchase || purchase.subscriberId !== input.subscriber.id) throw notFound('Purchase');
  assertDisputable(purchase, now);
  const opened: DisputeRecord = {
    id: newId('dsp', now.getTime()),
    purchaseId: purchase.id,
    subscriberId: input.subscriber.id,
    reason: input.reason,
    status: 'open',
    openedBy: input.openedBy,
    respondBy: respondByFor(now),
    evidence: null,
    respondedAt: null,
    closedAt: null,
    createdAt: now,
  };
  await insertDispute(sql, opened);
  const dispute = await reread(sql, opened.id);
  await recordEvent(sql, purchase.publisherId, 'dispute.opened', disputePayload(dispute, settings.publicUrl, now), now);
  await suspendIfAboveRate(sql, purchase.publisherId, settings.suspension, now);
  return dispute;
}

/** A dispute this transaction just wrote, with its parties as they now are. */
async function reread(sql: Sql, disputeId: string): Promise<DisputeWithParties> {
  const dispute = await findDisputeRecord(sql, disputeId);
  if (!dispute) throw new Error(`Dispute ${disputeId} was written but cannot be read`);
  return dispute;
}

/**
 * Closes a dispute. The purchase leaves `disputed` first, so that a lost
 * dispute refunds it through the one refund path (ceilings freed, credited on
 * the next invoice when already invoiced, `purchase.refunded` sent with the
 * final status) and a won one is simply `confirmed` again.
 */
async function closeDispute(
  sql: Sql,
  dispute: DisputeWithParties,
  outcome: DisputeOutcome,
  changes: Partial<Pick<DisputeRecord, 'evidence' | 'respondedAt'>>,
  publicUrl: string,
  now: Date,
): Promise<DisputeWithParties> {
  await saveDispute(sql, { ...dispute, ...changes, status: outcome, closedAt: now });
  await lockPurchase(sql, dispute.purchaseId);
  const purchase = await reinstatePurchase(sql, dispute.purchaseId);
  if (!purchase) throw notFound('Purchase');
  if (outcome === 'lost' && refundableAmount(purchase).gt(0)) {
    await refundPurchase(sql, purchase.id, null, 'dispute', publicUrl, { disputeId: dispute.id }, now);
  }
  const closed = await reread(sql, dispute.id);
  await recordEvent(sql, closed.purchase.publisherId, 'dispute.closed', disputePayload(closed, publicUrl, now), now);
  return closed;
}

export interface PublisherResponse {
  accept: boolean;
  evidence: string | null;
}

/** The publisher accepts (the dispute is lost, the purchase refunded) or contests it with evidence for the operator. */
export async function respondToDispute(
  sql: Sql,
  disputeId: string,
  publisherId: string,
  response: PublisherResponse,
  publicUrl: string,
  now: Date = new Date(),
): Promise<DisputeWithParties> {
  const dispute = await lockDispute(sql, disputeId, { kind: 'publisher', publisherId });
  const next = nextDisputeStatus(dispute, { type: response.accept ? 'accept' : 'contest' }, now);
  const changes = { evidence: response.evidence, respondedAt: now };
  if (next === 'lost') return closeDispute(sql, dispute, 'lost', changes, publicUrl, now);
  await saveDispute(sql, { ...dispute, ...changes, status: next });
  return reread(sql, dispute.id);
}

/** The operator of the disputing subscriber decides a contested dispute. */
export async function resolveDispute(
  sql: Sql,
  disputeId: string,
  operatorId: string,
  outcome: DisputeOutcome,
  publicUrl: string,
  now: Date = new Date(),
): Promise<DisputeWithParties> {
  const dispute = await lockDispute(sql, disputeId, { kind: 'operator', operatorId });
  nextDisputeStatus(dispute, { type: 'resolve', outcome }, now);
  return closeDispute(sql, dispute, outcome, {}, publicUrl, now);
}

/**
 * Closes one unanswered dispute past its deadline as lost. Returns null when
 * there is nothing to do (already answered, closed, or not yet due), which is
 * what makes a deadline job safe to run twice.
 */
export async function expireDispute(
  sql: Sql,
  disputeId: string,
  publicUrl: string,
  now: Date,
): Promise<DisputeWithParties | null> {
  const dispute = await lockDispute(sql, disputeId, null);
  if (dispute.status !== 'open' || dispute.respondBy > now) return null;
  nextDisputeStatus(dispute, { type: 'expire' }, now);
  return closeDispute(sql, dispute, 'lost', {}, publicUrl, now);
}

/**
 * Closes every open dispute whose deadline has passed, read from PostgreSQL,
 * one transaction per dispute. Returns how many this call closed.
 */
export async function sweepOverdueDisputes(
  db: Database,
  publicUrl: string,
  now: Date,
  batchSize = 100,
  scope: SweepScope = {},
): Promise<number> {
  let closed = 0;
  for (;;) {
    const due = await overdueDisputeIds(db.sql, now, batchSize, scope.publisherIds ?? null);
    for (const id of due) {
      const result = await db.transaction((sql) => expireDispute(sql, id, publicUrl, now));
      if (result) closed += 1;
    }
    if (due.length < batchSize) return closed;
  }
}
