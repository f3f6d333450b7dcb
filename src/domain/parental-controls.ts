import type { Database } from '../store/database.js';
import type { Sql } from '../store/sql.js';
import { findOperatorLimits } from '../store/operators.js';
import { findSubscriberByRef, saveControls } from '../store/subscribers.js';
import type { Category } from './categories.js';
import { forbidden, invalidRequest, notFound } from './errors.js';
import type { Decimal } from '../shared/money.js';
import { lockSubscriber } from './purchases.js';
import { limitsInForce } from './ceilings.js';
import { operatorLimits, type OperatorLimits } from './spending.js';
import type { Subscriber } from './subscribers.js';

/** Who asks for a child's controls: a subscriber, as its credential knows it. */
export type Holder = Pick<Subscriber, 'id' | 'operatorId'>;

/** The controls columns of a child, from the store or from a page's own read. */
export interface ControlledChild {
  externalRef: string;
  blocked: boolean;
  blockedCategories: readonly string[];
  pointsAllowed: boolean;
  limitWeekly: Decimal | null;
  limitMonthly: Decimal | null;
}

/** What a holder sets for a child; null limits mean "the operator's". */
export interface ControlsInput {
  blocked: boolean;
  blockedCategories: Category[];
  weekly: Decimal | null;
  monthly: Decimal | null;
  /** May the child spend the household's Kiosque Points (default no)? */
  pointsAllowed: boolean;
}

/**
 * The child `externalRef` of `holder`'s household. A ref this operator never
 * provisioned is 404; one that exists but is not this holder's child (the child
 * itself asking, another household's holder or child) is 403.
 */
export async function childOf(db: Sql, holder: Holder, externalRef: string): Promise<Subscriber> {
  const child = await findSubscriberByRef(db, holder.operatorId, externalRef);
  if (!child) throw notFound('Subscriber');
  if (child.holderId === null || child.holderId !== holder.id)
    throw forbidden("Only the holder of this child's household may do this");
  return child;
}

/** Limits are lowered, never raised: a holder's limit above the operator's is refused. */
export function assertWithinOperator(input: ControlsInput, operator: OperatorLimits): void {
  const limits = operatorLimits(operator);
  const fields: Record<string, string> = {};
  if (input.weekly?.gt(limits.weekly)) fields.weekly = `at most the operator's ${limits.weekly.toFixed(2)}`;
  if (input.monthly?.gt(limits.monthly)) fields.monthly = `at most the operator's ${limits.monthly.toFixed(2)}`;
  if (Object.keys(fields).length) throw invalidRequest('A child limit cannot be above the operator limit', { fields });
}

/** A child's controls with the limits in force: its own where lower than the operator's, else the operator's. */
export interface ChildControls {
  externalRef: string;
  blocked: boolean;
  blockedCategories: readonly string[];
  pointsAllowed: boolean;
  weekly: Decimal;
  monthly: Decimal;
}

export function controlsInForce(child: ControlledChild, operator: OperatorLimits): ChildControls {
  const limits = limitsInForce(operatorLimits(operator), {
    blocked: child.blocked,
    blockedCategories: child.blockedCategories,
    weekly: child.limitWeekly,
    monthly: child.limitMonthly,
  });
  return {
    externalRef: child.externalRef,
    blocked: child.blocked,
    blockedCategories: child.blockedCategories,
    pointsAllowed: child.pointsAllowed,
    weekly: limits.weekly,
    monthly: limits.monthly,
  };
}

/** A child's controls as its holder reads them, with the limits in force. */
export async function childControls(sql: Sql, holder: Holder, externalRef: string): Promise<ChildControls> {
  const child = await childOf(sql, holder, externalRef);
  const operator = await findOperatorLimits(sql, child.operatorId);
  if (!operator) throw new Error(`Operator ${child.operatorId} of subscriber ${child.id} not found`);
  return controlsInForce(child, operator);
}

/**
 * Replaces a child's controls. The child's row is locked like for a charge, so
 * the change is serialized with its confirmations and renewals: whatever
 * commits after this sees the new controls.
 */
export function replaceControls(
  database: Database,
  holder: Holder,
  externalRef: string,
  input: ControlsInput,
  now = new Date(),
) {
  return database.transaction((sql) => replaceControlsIn(sql, holder, externalRef, input, now));
}

async function replaceControlsIn(
  sql: Sql,
  holder: Holder,
  externalRef: string,
  input: ControlsInput,
  now: Date,
): Promise<ChildControls> {
  const child = await childOf(sql, holder, externalRef);
  const locked = await lockSubscriber(sql, child.id);
  // The operator may have moved the child to another household while we waited for its lock.
  if (locked.holderId !== holder.id) throw forbidden('Only the holder of this household may set its controls');
  assertWithinOperator(input, locked.operator);
  const updated = await saveControls(
    sql,
    child.id,
    {
      blocked: input.blocked,
      blockedCategories: [...new Set(input.blockedCategories)],
      limitWeekly: input.weekly,
      limitMonthly: input.monthly,
      pointsAllowed: input.pointsAllowed,
    },
    now,
  );
  if (!updated) throw notFound('Subscriber');
  return controlsInForce(updated, locked.operator);
}
