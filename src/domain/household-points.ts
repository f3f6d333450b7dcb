import { findPurchase } from '../store/purchases.js';
import type { PurchaseRecord } from '../store/records.js';
import {
  dueLots,
  expiryFigures,
  householdBalances,
  householdOfSubscriber,
  householdsToExpire,
  householdsToMature,
  lockHousehold,
  lotPending,
  operatorProgramme,
  pointsHistory,
  postPointsEntries,
  type PointsHistoryRow,
} from '../store/points.js';
import type { Database } from '../store/database.js';
import type { SweepScope } from '../store/sweep-scope.js';
import type { Sql } from '../store/sql.js';
import { Decimal } from '../shared/money.js';
import {
  assertAvailable,
  clawbackEntry,
  clawbackSplit,
  earnEntry,
  EVENT_OF_KIND,
  expiryCutoff,
  expiryEntry,
  maturityCutoff,
  maturityEntry,
  maturitySplit,
  pointsKept,
  pointsToExpire,
  spendEntry,
  type PointsEventType,
} from './points.js';
import type { PointsEntry } from '../store/points.js';

/** The household a subscriber's points belong to: its holder's, or its own when it is the holder. */
export function householdOf(subscriber: { id: string; holderId: string | null }): string {
  return subscriber.holderId ?? subscriber.id;
}

/**
 * The points of a confirmation, in its transaction and after its claim (so the
 * household lock comes after the subscriber, purchase and spending locks):
 * spends from available points, never below zero, and earns into pending. A
 * household short of points throws, and the whole confirmation rolls back.
 */
export async function postConfirmationPoints(
  sql: Sql,
  purchase: PurchaseRecord,
  subscriber: { id: string; holderId: string | null; operatorId: string },
  now: Date,
): Promise<void> {
  if (purchase.pointsSpent === 0 && purchase.pointsEarned === 0) return;
  const holderId = householdOf(subscriber);
  const pointValue = purchase.pointValue ?? new Decimal(0);
  const base = {
    purchaseId: purchase.id,
    holderId,
    operatorId: subscriber.operatorId,
    publisherId: purchase.publisherId,
    pointValue,
    at: now,
  };
  const entries: PointsEntry[] = [];
  if (purchase.pointsSpent > 0) {
    const locked = await lockHousehold(sql, holderId);
    assertAvailable(purchase.pointsSpent, locked?.balances ?? { available: 0, pending: 0, owed: 0 });
    entries.push(spendEntry({ ...base, points: purchase.pointsSpent }));
  }
  if (purchase.pointsEarned > 0) entries.push(earnEntry({ ...base, points: purchase.pointsEarned }));
  await postPointsEntries(sql, entries, { holderId, operatorId: subscriber.operatorId, at: now });
}

/**
 * Takes back what a purchase no longer earns once a refund, chargeback or lost
 * dispute lowered what stays of it: from its own pending points, then the
 * household's available ones, the rest owed. `before` and `after` are what stays
 * of the euro part (amount − refunded − charged back) either side of the event;
 * `cause` keys the entry (a refund's or an outcome's id), so it posts once.
 */
export async function clawBackPoints(
  sql: Sql,
  purchase: PurchaseRecord,
  holderId: string,
  operatorId: string,
  remaining: { before: Decimal; after: Decimal },
  cause: string,
  now: Date,
): Promise<number> {
  if (purchase.pointsEarned === 0) return 0;
  const points =
    pointsKept(purchase.pointsEarned, purchase.amount, remaining.before) -
    pointsKept(purchase.pointsEarned, purchase.amount, remaining.after);
  if (points <= 0) return 0;
  const locked = await lockHousehold(sql, holderId);
  const lot = await lotPending(sql, holderId, purchase.id);
  const available = locked?.balances.available ?? 0;
  const entry = clawbackEntry({
    key: `points-clawback:${purchase.id}:${cause}`,
    holderId,
    operatorId,
    publisherId: purchase.publisherId,
    split: clawbackSplit(points, lot, available),
    pointValue: purchase.pointValue ?? new Decimal(0),
    at: now,
  });
  await postPointsEntries(sql, [entry]);
  return points;
}

/**
 * One household's sweep, under its lock: lots pending since the maturity cutoff
 * become available (repaying any debt first), then whatever became available
 * before the expiry cutoff and is still there expires. Run twice, the second
 * finds nothing to do: its figures are the journal's after the first.
 */
export async function sweepHousehold(
  sql: Sql,
  holderId: string,
  now: Date,
): Promise<{ matured: number; expired: number }> {
  const locked = await lockHousehold(sql, holderId);
  if (!locked) return { matured: 0, expired: 0 };
  const { operatorId } = locked;
  let { owed } = locked.balances;
  const entries: PointsEntry[] = [];
  let matured = 0;
  for (const lot of await dueLots(sql, holderId, maturityCutoff(now))) {
    if (lot.pending <= 0) continue;
    const split = maturitySplit(lot.pending, owed);
    owed -= split.repaid;
    matured += lot.pending;
    entries.push(maturityEntry({ purchaseId: lot.purchaseId, holderId, operatorId, split, at: now }));
  }
  if (entries.length > 0) await postPointsEntries(sql, entries);
  const { available } = await householdBalances(sql, holderId);
  const { maturedByCutoff, outflow } = await expiryFigures(sql, holderId, expiryCutoff(now));
  const expired = pointsToExpire(maturedByCutoff, outflow, available);
  if (expired > 0) {
    const programme = await operatorProgramme(sql, operatorId);
    await postPointsEntries(sql, [
      expiryEntry({
        holderId,
        operatorId,
        points: expired,
        outflowAfter: outflow + expired,
        pointValue: new Decimal(programme?.pointValue ?? '0'),
        at: now,
      }),
    ]);
  }
  return { matured, expired };
}

/** One change to a household's points, as its history shows it. */
export interface PointsHistoryEntry {
  id: string;
  type: PointsEventType;
  /** The change to what the household holds (available + pending − owed). */
  points: number;
  available: number;
  pending: number;
  owed: number;
  purchaseId: string | null;
  at: Date;
}

function historyEntry(row: PointsHistoryRow): PointsHistoryEntry {
  return {
    id: row.id,
    type: EVENT_OF_KIND[row.kind],
    points: row.available + row.pending - row.owed,
    available: row.available,
    pending: row.pending,
    owed: row.owed,
    purchaseId: row.kind === 'points_expire' ? null : (row.key.split(':')[1] ?? null),
    at: row.createdAt,
  };
}

export interface HouseholdPoints {
  enabled: boolean;
  /** The euro value of a point, 0 without a programme. */
  pointValue: Decimal;
  available: number;
  pending: number;
  owed: number;
  availableValue: Decimal;
  /** Newest first. */
  history: PointsHistoryEntry[];
  nextCursor: string | null;
}

/** The household's balances and one page of its history, newest first. */
export async function householdPoints(
  sql: Sql,
  subscriber: { id: string; holderId: string | null; operatorId: string },
  page: { cursor: string | null; limit: number },
): Promise<HouseholdPoints> {
  const holderId = householdOf(subscriber);
  const programme = await operatorProgramme(sql, subscriber.operatorId);
  const balances = await householdBalances(sql, holderId);
  const rows = await pointsHistory(sql, holderId, page.cursor, page.limit + 1);
  const more = rows.length > page.limit;
  const history = rows.slice(0, page.limit).map(historyEntry);
  const pointValue = new Decimal(programme?.pointValue ?? '0');
  return {
    enabled: programme?.enabled ?? false,
    pointValue,
    available: balances.available,
    pending: balances.pending,
    owed: balances.owed,
    availableValue: pointValue.times(balances.available),
    history,
    nextCursor: more ? (history[history.length - 1]?.id ?? null) : null,
  };
}

/** What the consent page offers to pay with points: as many as the household has, up to the price. */
export interface PointsOffer {
  available: number;
  availableValue: Decimal;
  points: number;
  pointsValue: Decimal;
  /** The euro part left to pay with those points. */
  euros: Decimal;
}

export async function pointsOffer(
  sql: Sql,
  subscriber: { id: string; holderId: string | null; pointsAllowed: boolean },
  programme: { pointsEnabled: boolean; pointValue: Decimal },
  price: Decimal,
): Promise<PointsOffer | null> {
  if (!programme.pointsEnabled || (subscriber.holderId !== null && !subscriber.pointsAllowed)) return null;
  const { pointValue } = programme;
  const { available } = await householdBalances(sql, householdOf(subscriber));
  const points = Math.min(available, price.dividedBy(pointValue).floor().toNumber());
  if (points <= 0) return null;
  const pointsValue = pointValue.times(points);
  return {
    available,
    availableValue: pointValue.times(available),
    points,
    pointsValue,
    euros: price.minus(pointsValue),
  };
}

/**
 * A chargeback of `chargeback` euros on a purchase (its row already updated, in
 * the caller's transaction) takes back the points that share earned.
 */
export async function clawBackOnChargeback(
  sql: Sql,
  purchaseId: string,
  chargeback: Decimal,
  cause: string,
  now: Date,
): Promise<void> {
  const purchase = await findPurchase(sql, purchaseId);
  if (!purchase?.subscriberId || purchase.pointsEarned === 0) return;
  const household = await householdOfSubscriber(sql, purchase.subscriberId);
  const after = purchase.amount.minus(purchase.refundedAmount).minus(purchase.chargedBackAmount);
  await clawBackPoints(
    sql,
    purchase,
    household.holderId,
    household.operatorId,
    { before: after.plus(chargeback), after },
    cause,
    now,
  );
}

/**
 * The points sweep (housekeeping worker): every household with a lot due to
 * mature or points due to expire, each in a transaction of its own under its
 * lock. Safe to run twice or by two workers at once: the second finds the
 * journal already moved, and every entry is keyed.
 */
export async function sweepPoints(
  db: Database,
  now: Date,
  limit: number,
  scope: SweepScope = {},
): Promise<{ households: number; matured: number; expired: number }> {
  const { sql } = db;
  const operatorIds = scope.operatorIds ?? null;
  const holders = new Set([
    ...(await householdsToMature(sql, maturityCutoff(now), limit, operatorIds)),
    ...(await householdsToExpire(sql, expiryCutoff(now), limit, operatorIds)),
  ]);
  let matured = 0;
  let expired = 0;
  for (const holderId of holders) {
    const done = await db.transaction((tx) => sweepHousehold(tx, holderId, now));
    matured += done.matured;
    expired += done.expired;
  }
  return { households: holders.size, matured, expired };
}
