import type Decimal from 'decimal.js';
import { OPERATOR_LIMIT_COLUMNS, toOperatorLimits, type OperatorLimitColumns } from './operator-limits.js';
import { money, type OperatorLimitsRecord } from './records.js';
import type { Sql, Statement } from './sql.js';

export interface SubscriberRecord {
  id: string;
  operatorId: string;
  externalRef: string;
  displayName: string | null;
  holderId: string | null;
  blocked: boolean;
  blockedCategories: string[];
  limitWeekly: Decimal | null;
  limitMonthly: Decimal | null;
  pointsAllowed: boolean;
  createdAt: Date;
  updatedAt: Date;
}

function subscriberColumns(alias: string): string {
  return `${alias}.id, ${alias}.operator_id AS "operatorId", ${alias}.external_ref AS "externalRef",
  ${alias}.display_name AS "displayName", ${alias}.holder_id AS "holderId", ${alias}.blocked,
  COALESCE(${alias}.blocked_categories, '{}') AS "blockedCategories", ${alias}.limit_weekly::text AS "limitWeekly",
  ${alias}.limit_monthly::text AS "limitMonthly", ${alias}.points_allowed AS "pointsAllowed",
  ${alias}.created_at AS "createdAt", ${alias}.updated_at AS "updatedAt"`;
}

const SUBSCRIBER_COLUMNS = subscriberColumns('subscribers');

type SubscriberRow = Omit<SubscriberRecord, 'limitWeekly' | 'limitMonthly'> & {
  limitWeekly: string | null;
  limitMonthly: string | null;
};

/** Field by field, so that a row carrying more columns (its operator's) leaves them out. */
function toSubscriber(row: SubscriberRow): SubscriberRecord {
  return {
    id: row.id,
    operatorId: row.operatorId,
    externalRef: row.externalRef,
    displayName: row.displayName,
    holderId: row.holderId,
    blocked: row.blocked,
    blockedCategories: row.blockedCategories,
    limitWeekly: money(row.limitWeekly),
    limitMonthly: money(row.limitMonthly),
    pointsAllowed: row.pointsAllowed,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const FIND_BY_REF: Statement = {
  name: 'subscriber_find_by_ref',
  text: `SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE operator_id = $1::text AND external_ref = $2::text`,
};

/** The operator's subscriber known by `externalRef`; null when the operator never provisioned it. */
export async function findSubscriberByRef(
  sql: Sql,
  operatorId: string,
  externalRef: string,
): Promise<SubscriberRecord | null> {
  const [row] = await sql.rows<SubscriberRow>(FIND_BY_REF, [operatorId, externalRef]);
  return row ? toSubscriber(row) : null;
}

/** A household's controls over a child: null limits mean the operator's. */
export interface ControlsRecord {
  blocked: boolean;
  blockedCategories: string[];
  limitWeekly: Decimal | null;
  limitMonthly: Decimal | null;
  pointsAllowed: boolean;
}

const SAVE_CONTROLS: Statement = {
  name: 'subscriber_save_controls',
  text: `UPDATE subscribers SET blocked = $2::boolean, blocked_categories = $3::text[], limit_weekly = $4::numeric,
      limit_monthly = $5::numeric, points_allowed = $6::boolean, updated_at = $7::timestamptz
    WHERE id = $1::text
    RETURNING ${SUBSCRIBER_COLUMNS}`,
};

/** Replaces a child's controls; the caller holds its lock (lockSubscriber). */
export async function saveControls(
  sql: Sql,
  subscriberId: string,
  controls: ControlsRecord,
  at: Date,
): Promise<SubscriberRecord | null> {
  const [row] = await sql.rows<SubscriberRow>(SAVE_CONTROLS, [
    subscriberId,
    controls.blocked,
    controls.blockedCategories,
    controls.limitWeekly?.toFixed(2) ?? null,
    controls.limitMonthly?.toFixed(2) ?? null,
    controls.pointsAllowed,
    at,
  ]);
  return row ? toSubscriber(row) : null;
}

const INSERT_IF_ABSENT: Statement = {
  name: 'subscriber_insert_if_absent',
  text: `INSERT INTO subscribers (id, operator_id, external_ref, display_name)
    VALUES ($1::text, $2::text, $3::text, $4::text)
    ON CONFLICT (operator_id, external_ref) DO NOTHING
    RETURNING id`,
};

/** Inserts a subscriber unless the operator has one by that ref (concurrent inserts make one row); true if inserted. */
export async function insertSubscriberIfAbsent(
  sql: Sql,
  subscriber: { id: string; operatorId: string; externalRef: string; displayName: string | null },
): Promise<boolean> {
  const rows = await sql.rows(INSERT_IF_ABSENT, [
    subscriber.id,
    subscriber.operatorId,
    subscriber.externalRef,
    subscriber.displayName,
  ]);
  return rows.length > 0;
}

const LOCK_BY_REFS: Statement = {
  name: 'subscriber_lock_by_refs',
  text: `SELECT id, external_ref AS "externalRef", holder_id AS "holderId" FROM subscribers
    WHERE operator_id = $1::text AND external_ref = ANY($2::text[])
    ORDER BY external_ref
    FOR UPDATE`,
};

export interface HouseholdMember {
  id: string;
  externalRef: string;
  holderId: string | null;
}

/**
 * Locks several of an operator's subscribers by ref in one statement, always
 * in ref order, so that two households being built from each other's ends
 * cannot deadlock. The rows are as they are once the locks are granted;
 * anything else must be read by a later statement (see countChildren).
 */
export async function lockSubscribersByRef(
  sql: Sql,
  operatorId: string,
  externalRefs: readonly string[],
): Promise<HouseholdMember[]> {
  return sql.rows<HouseholdMember>(LOCK_BY_REFS, [operatorId, [...externalRefs]]);
}

const COUNT_CHILDREN: Statement = {
  name: 'subscriber_count_children',
  text: `SELECT count(*)::int AS children FROM subscribers WHERE holder_id = $1::text`,
};

/**
 * How many children a subscriber holds. Sent after its lock is granted, so it
 * sees a household a concurrent provisioning committed while we waited.
 */
export async function countChildren(sql: Sql, subscriberId: string): Promise<number> {
  const [row] = await sql.rows<{ children: number }>(COUNT_CHILDREN, [subscriberId]);
  return row?.children ?? 0;
}

const SAVE_HOUSEHOLD: Statement = {
  name: 'subscriber_save_household',
  text: `UPDATE subscribers SET holder_id = $2::text,
      display_name = CASE WHEN $3::boolean THEN $4::text ELSE display_name END,
      blocked = CASE WHEN $5::boolean THEN false ELSE blocked END,
      blocked_categories = CASE WHEN $5::boolean THEN '{}'::text[] ELSE blocked_categories END,
      limit_weekly = CASE WHEN $5::boolean THEN NULL ELSE limit_weekly END,
      limit_monthly = CASE WHEN $5::boolean THEN NULL ELSE limit_monthly END,
      updated_at = $6::timestamptz
    WHERE id = $1::text
    RETURNING ${SUBSCRIBER_COLUMNS}`,
};

/**
 * Moves a subscriber into a household (or out of one, holderId null). An
 * undefined display name keeps the stored one; `resetControls` clears the
 * controls of the household it leaves. The caller holds its lock.
 */
export async function saveHousehold(
  sql: Sql,
  subscriberId: string,
  change: { holderId: string | null; displayName: string | null | undefined; resetControls: boolean },
  at: Date,
): Promise<SubscriberRecord | null> {
  const [row] = await sql.rows<SubscriberRow>(SAVE_HOUSEHOLD, [
    subscriberId,
    change.holderId,
    change.displayName !== undefined,
    change.displayName ?? null,
    change.resetControls,
    at,
  ]);
  return row ? toSubscriber(row) : null;
}

/** A subscriber with its operator's brand, limits and points programme: what the subscriber's pages show. */
export type SubscriberWithOperator = SubscriberRecord & { operator: OperatorLimitsRecord };

const FIND_WITH_OPERATOR: Statement = {
  name: 'subscriber_find_with_operator',
  text: `SELECT ${subscriberColumns('s')}, ${OPERATOR_LIMIT_COLUMNS}
    FROM subscribers s JOIN operators o ON o.id = s.operator_id
    WHERE s.id = $1::text`,
};

export async function findSubscriberWithOperator(sql: Sql, id: string): Promise<SubscriberWithOperator | null> {
  const [row] = await sql.rows<SubscriberRow & OperatorLimitColumns>(FIND_WITH_OPERATOR, [id]);
  return row ? { ...toSubscriber(row), operator: toOperatorLimits(row.operatorId, row) } : null;
}

const CHILDREN: Statement = {
  name: 'subscriber_children',
  text: `SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE holder_id = $1::text ORDER BY created_at`,
};

/** A holder's children, oldest first: the order the parent space lists them in. */
export async function childrenOf(sql: Sql, holderId: string): Promise<SubscriberRecord[]> {
  const rows = await sql.rows<SubscriberRow>(CHILDREN, [holderId]);
  return rows.map(toSubscriber);
}

const INSERT_MANY: Statement = {
  name: 'subscriber_insert_many',
  text: `INSERT INTO subscribers (id, operator_id, external_ref)
    SELECT id, $1::text, external_ref FROM unnest($2::text[], $3::text[]) AS x(id, external_ref)`,
};

/** Provisions several holders of one operator at once (a sandbox operator's scenario subscribers). */
export async function insertSubscribers(
  sql: Sql,
  operatorId: string,
  subscribers: readonly { id: string; externalRef: string }[],
): Promise<void> {
  await sql.rows(INSERT_MANY, [operatorId, subscribers.map((s) => s.id), subscribers.map((s) => s.externalRef)]);
}
