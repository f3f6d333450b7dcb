import type { Config } from '../config.js';
import { disputeCounts, publisherStanding, suspendPublisher } from '../store/publishers.js';
import { notFound } from './errors.js';
import type { Sql } from '../store/sql.js';
import { Decimal } from '../shared/money.js';

/** The window of the dispute rate: disputes opened and purchases confirmed in the last 30 days. */
export const DISPUTE_RATE_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

export interface DisputeStats {
  disputes: number;
  confirmedPurchases: number;
}

export interface SuspensionPolicy {
  /** Suspend when the rate is strictly above this fraction. */
  threshold: Decimal.Value;
  /** Fewer confirmed purchases than this in the window never suspend. */
  minConfirmedPurchases: number;
}

export function suspensionPolicy(
  config: Pick<Config, 'disputeRateSuspendThreshold' | 'disputeRateMinPurchases'>,
): SuspensionPolicy {
  return { threshold: config.disputeRateSuspendThreshold, minConfirmedPurchases: config.disputeRateMinPurchases };
}

/** Disputes per confirmed purchase; null when nothing was confirmed, since no rate is defined then. */
export function disputeRate(stats: DisputeStats): Decimal | null {
  if (stats.confirmedPurchases === 0) return null;
  return new Decimal(stats.disputes).div(stats.confirmedPurchases);
}

/**
 * The automatic suspension rule. A small sample says little: one dispute on a
 * publisher's first ten sales is 10%, so below the minimum nothing happens.
 */
export function shouldSuspend(stats: DisputeStats, policy: SuspensionPolicy): boolean {
  if (stats.confirmedPurchases === 0 || stats.confirmedPurchases < policy.minConfirmedPurchases) return false;
  // disputes / confirmed > threshold, cross-multiplied so that no division rounds.
  return new Decimal(stats.disputes).gt(new Decimal(policy.threshold).times(stats.confirmedPurchases));
}

/** Sandbox operators' purchases are test traffic: they never count toward a live publisher's rate. */
export async function disputeStats(db: Sql, publisherId: string, now: Date): Promise<DisputeStats> {
  const since = new Date(now.getTime() - DISPUTE_RATE_WINDOW_MS);
  const counts = await disputeCounts(db, publisherId, since, now);
  return { disputes: counts.disputes, confirmedPurchases: counts.confirmed };
}

/**
 * Applies the rule for one publisher inside the caller's transaction. The
 * first suspension time is kept: suspending twice changes nothing.
 */
export async function suspendIfAboveRate(
  sql: Sql,
  publisherId: string,
  policy: SuspensionPolicy,
  now: Date,
): Promise<boolean> {
  const stats = await disputeStats(sql, publisherId, now);
  if (!shouldSuspend(stats, policy)) return false;
  return suspendPublisher(sql, publisherId, now);
}

/** A publisher's dispute figures now, and since when it is suspended (null: it is not); 404 for an unknown one. */
export async function publisherDisputeStanding(
  sql: Sql,
  publisherId: string,
  now: Date,
): Promise<{ stats: DisputeStats; suspendedAt: Date | null }> {
  const publisher = await publisherStanding(sql, publisherId);
  if (!publisher) throw notFound('Publisher');
  return { stats: await disputeStats(sql, publisherId, now), suspendedAt: publisher.suspendedAt };
}
