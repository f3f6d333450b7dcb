import type Decimal from 'decimal.js';
import { accountSql, EUR, POINTS, pointsAccounts } from '../shared/accounts.js';
import type { Sql, Statement } from './sql.js';

export interface UnitPosting {
  account: string;
  unit: string;
  /** Signed, positive a debit; whole points in POINTS, cents in EUR. */
  amount: Decimal;
}

export interface PointsEntry {
  key: string;
  kind: 'points_earn' | 'points_spend' | 'points_clawback' | 'points_mature' | 'points_expire';
  operatorId: string;
  publisherId: string | null;
  postings: UnitPosting[];
  at: Date;
}

/** A household's points, by the side of its accounts. */
export interface HouseholdPoints {
  available: number;
  pending: number;
  owed: number;
}

/**
 * Kiosque Points in the journal: the household's lock, its balances read from
 * postings, and the entries that move points. Every statement runs in the
 * caller's transaction (node-postgres on the confirmation path, Prisma elsewhere).
 */

const POST_ENTRIES: Statement = {
  name: 'points_post_entries',
  text: `WITH x AS (
      SELECT * FROM jsonb_to_recordset($1::jsonb)
        AS x(key text, kind text, operator_id text, publisher_id text, created_at timestamptz, postings jsonb)
    ), household AS (
      INSERT INTO points_households (holder_id, operator_id, created_at)
      SELECT $2::text, $3::text, $4::timestamptz WHERE $2::text IS NOT NULL
      ON CONFLICT (holder_id) DO NOTHING
    ), e AS (
      INSERT INTO ledger_entries (key, kind, operator_id, publisher_id, created_at)
      SELECT key, kind, operator_id, publisher_id, created_at FROM x
      ON CONFLICT (key) DO NOTHING
      RETURNING id, key
    ), p AS (
      INSERT INTO ledger_postings (entry_id, account, unit, amount)
      SELECT e.id, q.account, q.unit, q.amount::numeric
      FROM e JOIN x ON x.key = e.key CROSS JOIN jsonb_to_recordset(x.postings) AS q(account text, unit text, amount text)
    )
    SELECT count(*)::int AS written FROM e`,
};

/**
 * Writes entries, each with its postings, in one statement (the journal checks
 * each balances per unit). Keyed: an entry whose key exists is not written
 * again. `household` registers the household the first time it earns.
 */
export async function postPointsEntries(
  sql: Sql,
  entries: readonly PointsEntry[],
  household: { holderId: string; operatorId: string; at: Date } | null = null,
): Promise<number> {
  const json = entries.map((entry) => ({
    key: entry.key,
    kind: entry.kind,
    operator_id: entry.operatorId,
    publisher_id: entry.publisherId,
    created_at: entry.at.toISOString(),
    postings: entry.postings
      .filter((p) => !p.amount.isZero())
      .map((p) => ({ account: p.account, unit: p.unit, amount: p.amount.toFixed(p.unit === EUR ? 2 : 0) })),
  }));
  const nonEmpty = json.filter((e) => e.postings.length > 0);
  if (nonEmpty.length === 0 && !household) return 0;
  const [row] = await sql.rows<{ written: number }>(POST_ENTRIES, [
    JSON.stringify(nonEmpty),
    household?.holderId ?? null,
    household?.operatorId ?? null,
    household?.at ?? null,
  ]);
  return row?.written ?? 0;
}

const LOCK_HOUSEHOLD: Statement = {
  name: 'points_household_lock',
  text: `SELECT operator_id AS "operatorId", available, pending, owed
    FROM points_households WHERE holder_id = $1::text FOR UPDATE`,
};

/**
 * The household's points lock, always taken after any subscriber, purchase or
 * spending row lock of the same transaction (never before one), so it cannot
 * deadlock with a confirmation's subscriber lock. Returns its balances as the
 * last holder of the lock left them: every posting moves them on this very row
 * (a trigger on the journal), so FOR UPDATE hands back the committed latest.
 * Null: the household never earned, so it has no points to move.
 */
export async function lockHousehold(
  sql: Sql,
  holderId: string,
): Promise<{ operatorId: string; balances: HouseholdPoints } | null> {
  const [row] = await sql.rows<{ operatorId: string } & HouseholdPoints>(LOCK_HOUSEHOLD, [holderId]);
  if (!row) return null;
  return { operatorId: row.operatorId, balances: { available: row.available, pending: row.pending, owed: row.owed } };
}

const BALANCES: Statement = {
  name: 'points_household_balances',
  text: `SELECT available, pending, owed FROM points_households WHERE holder_id = $1::text`,
};

/**
 * The household's balances as kept beside the journal. Read under the
 * household's lock by a later statement, they include every commit before it.
 */
export async function householdBalances(sql: Sql, holderId: string): Promise<HouseholdPoints> {
  const [row] = await sql.rows<HouseholdPoints>(BALANCES, [holderId]);
  return row ?? { available: 0, pending: 0, owed: 0 };
}

const LOT_PENDING: Statement = {
  name: 'points_lot_pending',
  text: `SELECT COALESCE(-sum(p.amount), 0)::int AS pending
    FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
    WHERE p.account = $1::text AND p.unit = '${POINTS}' AND split_part(e.key, ':', 2) = $2::text`,
};

/** What is still pending of the points one purchase earned (entries of a lot carry its purchase id second in their key). */
export async function lotPending(sql: Sql, holderId: string, purchaseId: string): Promise<number> {
  const [row] = await sql.rows<{ pending: number }>(LOT_PENDING, [pointsAccounts.pending(holderId), purchaseId]);
  return row?.pending ?? 0;
}

const DUE_LOTS: Statement = {
  name: 'points_due_lots',
  text: `SELECT split_part(e.key, ':', 2) AS "purchaseId", (-sum(p.amount))::int AS pending
    FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
    WHERE p.account = $1::text AND p.unit = '${POINTS}'
    GROUP BY 1
    HAVING sum(p.amount) <> 0 AND min(e.created_at) FILTER (WHERE e.kind = 'points_earn') <= $2::timestamptz
    ORDER BY 1`,
};

/** The household's lots earned at or before the cutoff with points still pending. */
export async function dueLots(
  sql: Sql,
  holderId: string,
  cutoff: Date,
): Promise<{ purchaseId: string; pending: number }[]> {
  return sql.rows(DUE_LOTS, [pointsAccounts.pending(holderId), cutoff]);
}

const HOUSEHOLDS_TO_MATURE: Statement = {
  name: 'points_households_to_mature',
  text: `SELECT DISTINCT ${accountSql.pointsHolder('p.account')} AS "holderId"
    FROM ledger_entries e
    JOIN ledger_postings p ON p.entry_id = e.id AND p.unit = '${POINTS}' AND p.account LIKE ${accountSql.pointsHolderPattern('pending')}
    WHERE e.kind = 'points_earn' AND e.created_at <= $1::timestamptz
      AND ($3::text[] IS NULL OR e.operator_id = ANY($3::text[]))
      AND NOT EXISTS (SELECT 1 FROM ledger_entries m WHERE m.key = 'points-mature:' || split_part(e.key, ':', 2))
      AND (SELECT sum(q.amount) FROM ledger_postings q JOIN ledger_entries f ON f.id = q.entry_id
           WHERE q.account = p.account AND q.unit = '${POINTS}'
             AND split_part(f.key, ':', 2) = split_part(e.key, ':', 2)) <> 0
    LIMIT $2::int`,
};

/**
 * Households with a lot due to mature (a lot clawed back whole before it matured
 * is not one), of the given operators only when `operatorIds` is not null.
 */
export async function householdsToMature(
  sql: Sql,
  cutoff: Date,
  limit: number,
  operatorIds: readonly string[] | null,
): Promise<string[]> {
  const rows = await sql.rows<{ holderId: string }>(HOUSEHOLDS_TO_MATURE, [cutoff, limit, operatorIds]);
  return rows.map((r) => r.holderId);
}

const EXPIRY_FIGURES: Statement = {
  name: 'points_expiry_figures',
  text: `SELECT COALESCE(-sum(p.amount) FILTER (WHERE p.amount < 0 AND e.kind = 'points_mature'
                                              AND e.created_at <= $2::timestamptz), 0)::int AS "maturedByCutoff",
           COALESCE(sum(p.amount) FILTER (WHERE p.amount > 0), 0)::int AS outflow
    FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
    WHERE p.account = $1::text AND p.unit = '${POINTS}'`,
};

/** What became available at or before the cutoff, and all that ever left the available account. */
export async function expiryFigures(
  sql: Sql,
  holderId: string,
  cutoff: Date,
): Promise<{ maturedByCutoff: number; outflow: number }> {
  const [row] = await sql.rows<{ maturedByCutoff: number; outflow: number }>(EXPIRY_FIGURES, [
    pointsAccounts.available(holderId),
    cutoff,
  ]);
  return row ?? { maturedByCutoff: 0, outflow: 0 };
}

const HOUSEHOLDS_TO_EXPIRE: Statement = {
  name: 'points_households_to_expire',
  text: `WITH matured AS (
      SELECT p.account, -sum(p.amount) AS by_cutoff
      FROM ledger_entries e
      JOIN ledger_postings p ON p.entry_id = e.id AND p.unit = '${POINTS}' AND p.account LIKE ${accountSql.pointsHolderPattern('available')}
      WHERE e.kind = 'points_mature' AND e.created_at <= $1::timestamptz
        AND ($3::text[] IS NULL OR e.operator_id = ANY($3::text[]))
      GROUP BY p.account
    )
    SELECT ${accountSql.pointsHolder('m.account')} AS "holderId"
    FROM matured m
    WHERE m.by_cutoff > (SELECT COALESCE(sum(q.amount), 0) FROM ledger_postings q
                         WHERE q.account = m.account AND q.unit = '${POINTS}' AND q.amount > 0)
    LIMIT $2::int`,
};

/** Households holding points that became available at or before the cutoff and are still there. */
export async function householdsToExpire(
  sql: Sql,
  cutoff: Date,
  limit: number,
  operatorIds: readonly string[] | null,
): Promise<string[]> {
  const rows = await sql.rows<{ holderId: string }>(HOUSEHOLDS_TO_EXPIRE, [cutoff, limit, operatorIds]);
  return rows.map((r) => r.holderId);
}

const OPERATOR_PROGRAMME: Statement = {
  name: 'points_operator_programme',
  text: `SELECT points_enabled AS enabled, point_value::text AS "pointValue" FROM operators WHERE id = $1::text`,
};

export async function operatorProgramme(
  sql: Sql,
  operatorId: string,
): Promise<{ enabled: boolean; pointValue: string } | null> {
  const [row] = await sql.rows<{ enabled: boolean; pointValue: string }>(OPERATOR_PROGRAMME, [operatorId]);
  return row ?? null;
}

export interface PointsHistoryRow {
  id: string;
  key: string;
  kind: PointsEntry['kind'];
  createdAt: Date;
  available: number;
  pending: number;
  owed: number;
}

const HISTORY: Statement = {
  name: 'points_history',
  text: `SELECT e.id::text AS id, e.key, e.kind, e.created_at AS "createdAt",
           COALESCE(-sum(p.amount) FILTER (WHERE p.account = $1::text), 0)::int AS available,
           COALESCE(-sum(p.amount) FILTER (WHERE p.account = $2::text), 0)::int AS pending,
           COALESCE(sum(p.amount) FILTER (WHERE p.account = $3::text), 0)::int AS owed
    FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
    WHERE p.account IN ($1::text, $2::text, $3::text) AND p.unit = '${POINTS}'
      AND ($4::bigint IS NULL OR e.id < $4::bigint)
    GROUP BY e.id
    ORDER BY e.id DESC
    LIMIT $5::int`,
};

/** The household's entries, newest first, each with what it did to its three balances. */
export async function pointsHistory(
  sql: Sql,
  holderId: string,
  cursor: string | null,
  limit: number,
): Promise<PointsHistoryRow[]> {
  return sql.rows(HISTORY, [
    pointsAccounts.available(holderId),
    pointsAccounts.pending(holderId),
    pointsAccounts.owed(holderId),
    cursor,
    limit,
  ]);
}

const HOUSEHOLD_OF: Statement = {
  name: 'points_household_of',
  text: `SELECT COALESCE(holder_id, id) AS "holderId", operator_id AS "operatorId" FROM subscribers WHERE id = $1::text`,
};

/** The household (its holder) and operator of a subscriber. */
export async function householdOfSubscriber(
  sql: Sql,
  subscriberId: string,
): Promise<{ holderId: string; operatorId: string }> {
  const [row] = await sql.rows<{ holderId: string; operatorId: string }>(HOUSEHOLD_OF, [subscriberId]);
  if (!row) throw new Error(`subscriber ${subscriberId} vanished`);
  return row;
}
