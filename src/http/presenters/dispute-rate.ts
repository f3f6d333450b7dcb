import {
  DISPUTE_RATE_WINDOW_MS,
  disputeRate,
  shouldSuspend,
  type DisputeStats,
  type SuspensionPolicy,
} from '../../domain/dispute-rate.js';
import { Decimal } from '../../shared/money.js';

export function disputeRateResource(
  publisherId: string,
  stats: DisputeStats,
  policy: SuspensionPolicy,
  suspendedAt: Date | null,
) {
  const rate = disputeRate(stats);
  return {
    publisherId,
    windowDays: DISPUTE_RATE_WINDOW_MS / (24 * 60 * 60 * 1000),
    disputes: stats.disputes,
    confirmedPurchases: stats.confirmedPurchases,
    // Exact fraction as a string (never a float), to six places for display.
    disputeRate: rate === null ? null : rate.toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN).toFixed(6),
    suspendThreshold: new Decimal(policy.threshold).toString(),
    minConfirmedPurchases: policy.minConfirmedPurchases,
    wouldSuspend: shouldSuspend(stats, policy),
    suspended: suspendedAt !== null,
    suspendedAt: suspendedAt?.toISOString() ?? null,
  };
}
