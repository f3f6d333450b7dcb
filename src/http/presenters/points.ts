import type { HouseholdPoints, PointsHistoryEntry } from '../../domain/household-points.js';
import { formatAmount } from '../../domain/money.js';

function historyResource(entry: PointsHistoryEntry) {
  return {
    id: entry.id,
    type: entry.type,
    points: entry.points,
    available: entry.available,
    pending: entry.pending,
    ...(entry.owed !== 0 ? { owed: entry.owed } : {}),
    purchaseId: entry.purchaseId,
    at: entry.at.toISOString(),
  };
}

/** GET /v1/me/points. */
export function householdPointsResource(points: HouseholdPoints) {
  return {
    enabled: points.enabled,
    pointValue: formatAmount(points.pointValue),
    available: points.available,
    pending: points.pending,
    owed: points.owed,
    availableValue: formatAmount(points.availableValue),
    history: points.history.map(historyResource),
    nextCursor: points.nextCursor,
  };
}
