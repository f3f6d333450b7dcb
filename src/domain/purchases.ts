import type { Publisher, Purchase, Refund, Subscriber } from '../generated/prisma/client.js';
import type { Tx } from '../store/db.js';
import { newId } from '../ids.js';
import { authorize } from './ceilings.js';
import { commissionOn, type Channel } from './commission.js';
import { AppError, invalidState, notFound, type DeclineCode } from './errors.js';
import { recordEvent } from './events.js';
import { Decimal } from './money.js';
import { purchaseResource, purchaseStatus, refundResource } from './resources.js';
import { householdControls, spentBy, subscriberLimits } from './spending.js';

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

async function lockPurchase(tx: Tx, purchaseId: string) {
  await tx.$queryRaw`SELECT 1 FROM purchases WHERE id = ${purchaseId} FOR UPDATE`;
  return tx.purchase.findUnique({ where: { id: purchaseId }, include: { publisher: true } });
}

/**
 * Locks the subscriber row: every authorization for one subscriber, whichever
 * gateway process runs it, is serialized here, so ceilings cannot be overrun by
 * concurrent confirmations. Returns the row as it is now (controls included).
 */
export async function lockSubscriber(tx: Tx, subscriberId: string) {
  await tx.$queryRaw`SELECT 1 FROM subscribers WHERE id = ${subscriberId} FOR UPDATE`;
  return tx.subscriber.findUniqueOrThrow({ where: { id: subscriberId }, include: { operator: true } });
}

/**
 * Decides a charge for a subscriber whose row the caller has locked: every
 * check of API.md, with spending read from PostgreSQL inside the same transaction.
 */
export async function decideCharge(
  tx: Tx,
  subscriber: Awaited<ReturnType<typeof lockSubscriber>>,
  publisher: Publisher,
  amount: Decimal,
  now: Date,
): Promise<DeclineCode | null> {
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
  const purchase = await lockPurchase(tx, purchaseId);
  if (!purchase || purchase.subscriptionId) throw notFound('Purchase');
  if (purchase.subscriberId !== null) {
    if (purchase.subscriberId !== subscriber.id) throw notFound('Purchase');
    if (purchase.status === 'declined') return { outcome: 'declined', purchase, code: purchase.declineCode as DeclineCode };
    return { outcome: 'confirmed', purchase };
  }
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
  if (code) {
    const declined = await tx.purchase.update({
      where: { id: purchase.id },
      data: { ...consent, status: 'declined', declineCode: code },
    });
    return { outcome: 'declined', purchase: declined, code };
  }
  const rate = rateFor(publisher, purchase.channel as Channel);
  const confirmed = await tx.purchase.update({
    where: { id: purchase.id },
    data: {
      ...consent,
      status: 'confirmed',
      confirmedAt: now,
      commissionRate: rate.toString(),
      commissionAmount: commissionOn(amount, rate).toFixed(2),
    },
  });
  await recordEvent(tx, publisher.id, 'purchase.confirmed', purchaseResource(confirmed, publicUrl, now), now);
  return { outcome: 'confirmed', purchase: confirmed };
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
  const purchase = await lockPurchase(tx, purchaseId);
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
