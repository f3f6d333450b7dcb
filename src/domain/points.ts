import { AppError, forbidden, invalidRequest, invalidState } from './errors.js';
import { EUR, POINTS, pointsAccounts } from '../shared/accounts.js';
import type { HouseholdPoints, PointsEntry } from '../store/points.js';
import { Decimal } from '../shared/money.js';

/**
 * Kiosque Points (docs/points.md, docs/money.md "Points"): the rules, without I/O.
 * Points are whole numbers in the journal's second unit; every movement of
 * points is a journal entry that balances in points and, for its euro value,
 * in euros.
 */
/** Earned points wait this long before they can be spent (a refund in that time takes them back from pending). */
export const PENDING_MS = 14 * 24 * 60 * 60 * 1000;
/** Available points expire this many calendar months after they became available. */
export const EXPIRY_MONTHS = 12;

export interface Programme {
  enabled: boolean;
  pointValue: Decimal;
}

/** floor(euros × pointsPerEuro): a publisher awards whole points, never a fraction. */
export function pointsEarned(euros: Decimal, pointsPerEuro: Decimal): number {
  return euros.times(pointsPerEuro).floor().toNumber();
}

export function valueOf(points: number, pointValue: Decimal): Decimal {
  return pointValue.times(points);
}

/**
 * The euro part of a purchase paid partly with points: what is billed and counts
 * against ceilings. Points worth more than the price are refused (400), and so
 * is spending in a programme the operator does not run (409) or, for a child,
 * without its holder's leave (403).
 */
export function euroPart(
  amount: Decimal,
  points: number,
  programme: Programme,
  spender: { child: boolean; pointsAllowed: boolean },
): Decimal {
  if (points === 0) return amount;
  if (!programme.enabled) throw invalidState('This operator runs no points programme', { points });
  if (spender.child && !spender.pointsAllowed)
    throw forbidden("This household's holder does not let this account spend points");
  const value = valueOf(points, programme.pointValue);
  if (value.gt(amount)) {
    const maxPoints = amount.dividedBy(programme.pointValue).floor().toNumber();
    throw invalidRequest('These points are worth more than the purchase', {
      fields: { points: `at most ${maxPoints} (${amount.toFixed(2)} at ${programme.pointValue.toFixed(2)} a point)` },
      maxPoints,
    });
  }
  return amount.minus(value);
}

export function assertAvailable(points: number, balance: HouseholdPoints): void {
  if (points > balance.available) {
    throw new AppError('invalid_state', 'The household has not that many points available', {
      requested: points,
      available: balance.available,
    });
  }
}

/**
 * What a purchase still earns once part of it is refunded or charged back: its
 * proportional share, floored, so a full refund keeps nothing and every partial
 * one takes back exactly what the share no longer covers.
 */
export function pointsKept(earned: number, amount: Decimal, remaining: Decimal): number {
  if (earned === 0 || amount.isZero()) return 0;
  return new Decimal(earned).times(remaining).dividedBy(amount).floor().toNumber();
}

/** A clawback takes from the purchase's own pending points first, then available ones; the rest is owed. */
export function clawbackSplit(
  points: number,
  lotPending: number,
  available: number,
): { fromPending: number; fromAvailable: number; owed: number } {
  const fromPending = Math.min(points, lotPending);
  const fromAvailable = Math.min(points - fromPending, available);
  return { fromPending, fromAvailable, owed: points - fromPending - fromAvailable };
}

/** Maturing points repay what the household owes before they become available. */
export function maturitySplit(points: number, owed: number): { repaid: number; available: number } {
  const repaid = Math.min(points, owed);
  return { repaid, available: points - repaid };
}

/**
 * First in, first out: of the points that became available at or before the
 * cutoff, whatever has not left the available account since (spent, taken back,
 * expired) expires now, never more than is available.
 */
export function pointsToExpire(maturedByCutoff: number, outflowSoFar: number, available: number): number {
  return Math.max(0, Math.min(available, maturedByCutoff - outflowSoFar));
}

export function expiryCutoff(now: Date): Date {
  const cutoff = new Date(now);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - EXPIRY_MONTHS);
  return cutoff;
}

export function maturityCutoff(now: Date): Date {
  return new Date(now.getTime() - PENDING_MS);
}

const pts = (n: number) => new Decimal(n);

/** Points moving for one purchase of a household, valued at the pointValue in force at its confirmation. */
export interface PurchasePointsMove {
  purchaseId: string;
  holderId: string;
  operatorId: string;
  publisherId: string;
  points: number;
  pointValue: Decimal;
  at: Date;
}

/** A confirmed purchase earns for the household; the publisher owes the points' value. */
export function earnEntry(input: PurchasePointsMove): PointsEntry {
  const value = valueOf(input.points, input.pointValue);
  return {
    key: `points-earn:${input.purchaseId}`,
    kind: 'points_earn',
    operatorId: input.operatorId,
    publisherId: input.publisherId,
    at: input.at,
    postings: [
      { account: pointsAccounts.issued(input.operatorId), unit: POINTS, amount: pts(input.points) },
      { account: pointsAccounts.pending(input.holderId), unit: POINTS, amount: pts(-input.points) },
      { account: pointsAccounts.unsettledIssued(input.operatorId, input.publisherId), unit: EUR, amount: value },
      { account: pointsAccounts.liability(input.operatorId), unit: EUR, amount: value.negated() },
    ],
  };
}

/** Points pay part of a purchase: the publisher is owed their value out of the programme's liability. */
export function spendEntry(input: PurchasePointsMove): PointsEntry {
  const value = valueOf(input.points, input.pointValue);
  return {
    key: `points-spend:${input.purchaseId}`,
    kind: 'points_spend',
    operatorId: input.operatorId,
    publisherId: input.publisherId,
    at: input.at,
    postings: [
      { account: pointsAccounts.available(input.holderId), unit: POINTS, amount: pts(input.points) },
      { account: pointsAccounts.redeemed(input.operatorId), unit: POINTS, amount: pts(-input.points) },
      { account: pointsAccounts.liability(input.operatorId), unit: EUR, amount: value },
      {
        account: pointsAccounts.unsettledRedeemed(input.operatorId, input.publisherId),
        unit: EUR,
        amount: value.negated(),
      },
    ],
  };
}

/**
 * A refund, chargeback or lost dispute takes back what the purchase no longer
 * earns: the points leave the household (pending, then available, the rest
 * owed) and return to the programme, and the publisher is credited their value.
 */
export function clawbackEntry(input: {
  key: string;
  holderId: string;
  operatorId: string;
  publisherId: string;
  split: { fromPending: number; fromAvailable: number; owed: number };
  pointValue: Decimal;
  at: Date;
}): PointsEntry {
  const { fromPending, fromAvailable, owed } = input.split;
  const points = fromPending + fromAvailable + owed;
  const value = valueOf(points, input.pointValue);
  return {
    key: input.key,
    kind: 'points_clawback',
    operatorId: input.operatorId,
    publisherId: input.publisherId,
    at: input.at,
    postings: [
      { account: pointsAccounts.pending(input.holderId), unit: POINTS, amount: pts(fromPending) },
      { account: pointsAccounts.available(input.holderId), unit: POINTS, amount: pts(fromAvailable) },
      { account: pointsAccounts.owed(input.holderId), unit: POINTS, amount: pts(owed) },
      { account: pointsAccounts.issued(input.operatorId), unit: POINTS, amount: pts(-points) },
      { account: pointsAccounts.liability(input.operatorId), unit: EUR, amount: value },
      {
        account: pointsAccounts.unsettledIssued(input.operatorId, input.publisherId),
        unit: EUR,
        amount: value.negated(),
      },
    ],
  };
}

/** One purchase's pending points become available (less what repays the household's debt). */
export function maturityEntry(input: {
  purchaseId: string;
  holderId: string;
  operatorId: string;
  split: { repaid: number; available: number };
  at: Date;
}): PointsEntry {
  const { repaid, available } = input.split;
  return {
    key: `points-mature:${input.purchaseId}`,
    kind: 'points_mature',
    operatorId: input.operatorId,
    publisherId: null,
    at: input.at,
    postings: [
      { account: pointsAccounts.pending(input.holderId), unit: POINTS, amount: pts(repaid + available) },
      { account: pointsAccounts.owed(input.holderId), unit: POINTS, amount: pts(-repaid) },
      { account: pointsAccounts.available(input.holderId), unit: POINTS, amount: pts(-available) },
    ],
  };
}

/**
 * Unspent points expire: out of the household, their value out of the liability
 * into breakage. Keyed by the household's total outflow once it is done, so a
 * second sweep that finds the same points cannot post them twice.
 */
export function expiryEntry(input: {
  holderId: string;
  operatorId: string;
  points: number;
  outflowAfter: number;
  pointValue: Decimal;
  at: Date;
}): PointsEntry {
  const value = valueOf(input.points, input.pointValue);
  return {
    key: `points-expire:${input.holderId}:${input.outflowAfter}`,
    kind: 'points_expire',
    operatorId: input.operatorId,
    publisherId: null,
    at: input.at,
    postings: [
      { account: pointsAccounts.available(input.holderId), unit: POINTS, amount: pts(input.points) },
      { account: pointsAccounts.expired(input.operatorId), unit: POINTS, amount: pts(-input.points) },
      { account: pointsAccounts.liability(input.operatorId), unit: EUR, amount: value },
      { account: pointsAccounts.breakage(input.operatorId), unit: EUR, amount: value.negated() },
    ],
  };
}

/** The history line a household sees for one entry: what it did to the household's points. */
export type PointsEventType = 'earned' | 'available' | 'spent' | 'clawed_back' | 'expired';

export const EVENT_OF_KIND: Record<PointsEntry['kind'], PointsEventType> = {
  points_earn: 'earned',
  points_mature: 'available',
  points_spend: 'spent',
  points_clawback: 'clawed_back',
  points_expire: 'expired',
};
