import { Prisma, type Operator, type Publisher, type Purchase, type Refund, type Subscriber } from '../generated/prisma/client.js';
import type { Tx } from '../store/db.js';
import { newId } from '../ids.js';
import { authorize } from './ceilings.js';
import { commissionOn, type Channel } from './commission.js';
import { AppError, invalidState, notFound, type DeclineCode } from './errors.js';
import { recordEvent } from './events.js';
import { notifyOperatorOfCharge } from './operator-notifications.js';
import { sandboxDecline } from './sandbox.js';
import { Decimal } from './money.js';
import { purchaseResource, purchaseStatus, refundResource } from './resources.js';
import { householdControls, spentBy, subscriberLimits, type OperatorLimitColumns } from './spending.js';

/** API.md: a pending purchase expires 10 minutes after creation. */
export const CONSENT_TTL_MS = 10 * 60 * 1000;

export interface NewPurchase {
  amount: Decimal;
  description: string;
  channel: Channel;
  kind: 'article' | 'credits';
  credits: number | null;
  returnUrl: string | null;
}

export function rateFor(publisher: Publisher, channel: Channel): Decimal {
  const rate = { isp: publisher.rateIsp, sms: publisher.rateSms, voice: publisher.rateVoice }[channel];
  return new Decimal(rate.toString());
}

export function assertCanSell(publisher: Publisher): void {
  if (publisher.suspendedAt) throw new AppError('forbidden', 'This publisher is suspended and can create nothing');
}

export async function createPurchase(tx: Tx, publisher: Publisher, input: NewPurchase, now = new Date()): Promise<Purchase> {
  assertCanSell(publisher);
  return tx.purchase.create({
    data: {
      id: newId('pur', now.getTime()),
      publisherId: publisher.id,
      kind: input.kind,
      credits: input.credits,
      amount: input.amount.toFixed(2),
      currency: 'EUR',
      description: input.description,
      channel: input.channel,
      returnUrl: input.returnUrl,
      status: 'pending',
      createdAt: now,
      expiresAt: new Date(now.getTime() + CONSENT_TTL_MS),
    },
  });
}

/** Who confirmed, from where, on what page: kept with the purchase as consent evidence. */
export interface ConsentEvidence {
  ip: string | null;
  userAgent: string | null;
  pageVersion: string;
  assertionId: string;
}

export type Confirmation =
  | { outcome: 'confirmed'; purchase: Purchase }
  | { outcome: 'declined'; purchase: Purchase; code: DeclineCode };

interface OperatorJson {
  id: string;
  name: string;
  brand: string;
  sandbox: boolean;
  limitPerPurchase: string;
  limitWeekly: string;
  limitMonthly: string;
}

export type LockedSubscriber = Subscriber & {
  operator: Pick<Operator, 'id' | 'name' | 'brand' | 'sandbox'> & OperatorLimitColumns;
};

/**
 * Locks the subscriber row: every authorization for one subscriber, whichever
 * gateway process runs it, is serialized here, so ceilings cannot be overrun by
 * concurrent confirmations. Returns the row as it is now (controls included)
 * with its operator's limits, in the one statement that takes the lock: the
 * time a hot subscriber's lock is held is counted in round trips.
 */
export async function lockSubscriber(tx: Tx, subscriberId: string): Promise<LockedSubscriber> {
  const rows = await tx.$queryRaw<(Subscriber & { operator: OperatorJson })[]>`
    SELECT s.id, s.operator_id AS "operatorId", s.external_ref AS "externalRef", s.display_name AS "displayName",
           s.holder_id AS "holderId", s.blocked, s.blocked_categories AS "blockedCategories",
           s.limit_weekly AS "limitWeekly", s.limit_monthly AS "limitMonthly",
           s.created_at AS "createdAt", s.updated_at AS "updatedAt",
           json_build_object(
             'id', o.id, 'name', o.name, 'brand', o.brand, 'sandbox', o.sandbox,
             'limitPerPurchase', o.limit_per_purchase::text, 'limitWeekly', o.limit_weekly::text, 'limitMonthly', o.limit_monthly::text
           ) AS operator
    FROM subscribers s JOIN operators o ON o.id = s.operator_id
    WHERE s.id = ${subscriberId}
    FOR UPDATE OF s`;
  const row = rows[0];
  if (!row) throw notFound('Subscriber');
  const { operator } = row;
  return {
    ...row,
    blockedCategories: row.blockedCategories ?? [],
    // numeric travels as text inside json_build_object, so no float ever holds a limit.
    operator: {
      id: operator.id,
      name: operator.name,
      brand: operator.brand,
      sandbox: operator.sandbox,
      limitPerPurchase: new Prisma.Decimal(operator.limitPerPurchase),
      limitWeekly: new Prisma.Decimal(operator.limitWeekly),
      limitMonthly: new Prisma.Decimal(operator.limitMonthly),
    },
  };
}

/**
 * Decides a charge for a subscriber whose row the caller has locked: every
 * check of API.md, with spending read from PostgreSQL inside the same transaction.
 */
export async function decideCharge(
  tx: Tx,
  subscriber: LockedSubscriber,
  publisher: Publisher,
  amount: Decimal,
  now: Date,
): Promise<DeclineCode | null> {
  // --- sandbox (v1.1): scenario subscribers of a sandbox operator decline before any real check.
  const scenario = sandboxDecline(subscriber.externalRef, subscriber.operator.sandbox);
  if (scenario) return scenario;
  // --- end sandbox
  const spent = await spentBy(tx, subscriber.id, now);
  return authorize({
    amount,
    category: publisher.category,
    publisherSuspended: publisher.suspendedAt !== null,
    limits: subscriberLimits(subscriber, subscriber.operator),
    controls: householdControls(subscriber),
    spentThisWeek: spent.week,
    spentThisMonth: spent.month,
  });
}

/**
 * Click two. The first subscriber to confirm a pending purchase owns it; asking
 * again returns the same outcome; anyone else is told it does not exist.
 */
export async function confirmPurchase(
  tx: Tx,
  purchaseId: string,
  subscriber: Subscriber,
  evidence: ConsentEvidence,
  publicUrl: string,
  now = new Date(),
): Promise<Confirmation> {
  // Read without a lock: the subscriber's row lock below serializes the ceiling
  // check, and the guarded UPDATE at the end is what makes the first confirmer win.
  const purchase = await tx.purchase.findUnique({ where: { id: purchaseId }, include: { publisher: true } });
  if (!purchase || purchase.subscriptionId) throw notFound('Purchase');
  if (purchase.subscriberId !== null) return outcomeFor(purchase, subscriber);
  if (purchaseStatus(purchase, now) === 'expired') {
    throw new AppError('consent_expired', 'This purchase expired before it was confirmed', { expiresAt: purchase.expiresAt.toISOString() });
  }
  if (purchase.status !== 'pending') throw notFound('Purchase');

  const { publisher } = purchase;
  const locked = await lockSubscriber(tx, subscriber.id);
  const amount = new Decimal(purchase.amount.toString());
  const code = await decideCharge(tx, locked, publisher, amount, now);
  const consent = {
    subscriberId: subscriber.id,
    consentIp: evidence.ip,
    consentUserAgent: evidence.userAgent?.slice(0, 512) ?? null,
    consentPageVersion: evidence.pageVersion,
    consentAssertionId: evidence.assertionId,
  };
  const rate = rateFor(publisher, purchase.channel as Channel);
  const [claimed] = await tx.purchase.updateManyAndReturn({
    where: { id: purchase.id, status: 'pending', subscriberId: null },
    data: code
      ? { ...consent, status: 'declined', declineCode: code }
      : {
          ...consent,
          status: 'confirmed',
          confirmedAt: now,
          commissionRate: rate.toString(),
          commissionAmount: commissionOn(amount, rate).toFixed(2),
        },
  });
  if (!claimed) {
    // Another confirmation claimed it between our read and our update.
    const current = await tx.purchase.findUniqueOrThrow({ where: { id: purchase.id } });
    return outcomeFor(current, subscriber);
  }
  if (code) return { outcome: 'declined', purchase: claimed, code };
  await recordEvent(tx, publisher.id, 'purchase.confirmed', purchaseResource(claimed, publicUrl, now), now);
  // --- operator events (v1.1): receipt and spend reminders, in this transaction.
  await notifyOperatorOfCharge(tx, claimed, publisher.name, now);
  // --- end operator events
  return { outcome: 'confirmed', purchase: claimed };
}

/** The answer for a purchase someone already confirmed or was declined: theirs to see, or nobody's. */
function outcomeFor(purchase: Purchase, subscriber: Subscriber): Confirmation {
  if (purchase.subscriberId !== subscriber.id) throw notFound('Purchase');
  if (purchase.status === 'declined') return { outcome: 'declined', purchase, code: purchase.declineCode as DeclineCode };
  return { outcome: 'confirmed', purchase };
}

export function refundableAmount(purchase: Purchase): Decimal {
  return new Decimal(purchase.amount.toString()).minus(purchase.refundedAmount.toString()).minus(purchase.chargedBackAmount.toString());
}

/**
 * Gives back part or all of what is left of a purchase. Lowers what counts
 * against the subscriber's ceilings, since those sum amount − refunded.
 */
export async function refundPurchase(
  tx: Tx,
  purchaseId: string,
  requested: Decimal | null,
  reason: 'publisher' | 'dispute',
  publicUrl: string,
  options: { publisherId?: string; disputeId?: string; allowDisputed?: boolean } = {},
  now = new Date(),
): Promise<{ refund: Refund; purchase: Purchase }> {
  await tx.$queryRaw`SELECT 1 FROM purchases WHERE id = ${purchaseId} FOR UPDATE`;
  const purchase = await tx.purchase.findUnique({ where: { id: purchaseId } });
  if (!purchase || (options.publisherId && purchase.publisherId !== options.publisherId)) throw notFound('Purchase');
  const refundable = purchase.status === 'confirmed' || (options.allowDisputed && purchase.status === 'disputed');
  if (!refundable) {
    throw invalidState(`A ${purchaseStatus(purchase, now)} purchase cannot be refunded`, { status: purchaseStatus(purchase, now) });
  }
  const left = refundableAmount(purchase);
  const amount = requested ?? left;
  if (amount.lte(0) || amount.gt(left)) {
    throw invalidState(`At most ${left.toFixed(2)} is left to refund`, { refundable: left.toFixed(2) });
  }
  const refundedAmount = new Decimal(purchase.refundedAmount.toString()).plus(amount);
  const fully = refundedAmount.plus(purchase.chargedBackAmount.toString()).eq(purchase.amount.toString());
  const refund = await tx.refund.create({
    data: {
      id: newId('ref', now.getTime()),
      purchaseId,
      amount: amount.toFixed(2),
      reason,
      disputeId: options.disputeId ?? null,
      createdAt: now,
    },
  });
  const updated = await tx.purchase.update({
    where: { id: purchaseId },
    data: { refundedAmount: refundedAmount.toFixed(2), ...(fully && purchase.status === 'confirmed' ? { status: 'refunded' } : {}) },
  });
  await recordEvent(
    tx,
    purchase.publisherId,
    'purchase.refunded',
    { ...purchaseResource(updated, publicUrl, now), refund: refundResource(refund) },
    now,
  );
  return { refund, purchase: updated };
}
