import { findOperatorLimits } from '../store/operators.js';
import { readSpending } from '../store/purchases.js';
import type { Sql } from '../store/sql.js';
import { budget, limitsInForce, type Budget, type HouseholdControls, type Limits } from './ceilings.js';
import type { Decimal } from '../shared/money.js';
import type { OperatorLimitsRecord } from '../store/records.js';
import { monthStart, weekStart } from './periods.js';

export interface Spent {
  week: Decimal;
  month: Decimal;
}

/**
 * What the subscriber spent in the ISO week and calendar month holding `now`:
 * running totals kept in PostgreSQL, the system of record, in the transaction
 * of every change to a purchase, so reading them costs the same at any history.
 */
export function spentBy(sql: Sql, subscriberId: string, now: Date): Promise<Spent> {
  return readSpending(sql, subscriberId, weekStart(now), monthStart(now));
}

/** The operator's limits that ceilings need; nothing secret. */
export type OperatorLimits = Pick<OperatorLimitsRecord, 'limitPerPurchase' | 'limitWeekly' | 'limitMonthly'>;

export function operatorLimits(operator: OperatorLimits): Limits {
  return { perPurchase: operator.limitPerPurchase, weekly: operator.limitWeekly, monthly: operator.limitMonthly };
}

/** The subscriber columns that household controls live in. */
export interface ControlColumns {
  holderId: string | null;
  blocked: boolean;
  blockedCategories: readonly string[];
  limitWeekly: Decimal | null;
  limitMonthly: Decimal | null;
}

/** A holder's controls apply to children only; a holder has none. */
export function householdControls(subscriber: ControlColumns): HouseholdControls | null {
  if (!subscriber.holderId) return null;
  return {
    blocked: subscriber.blocked,
    blockedCategories: subscriber.blockedCategories,
    weekly: subscriber.limitWeekly,
    monthly: subscriber.limitMonthly,
  };
}

export function subscriberLimits(subscriber: ControlColumns, operator: OperatorLimits): Limits {
  return limitsInForce(operatorLimits(operator), householdControls(subscriber));
}

/** What is left of each of a subscriber's ceilings at `now` (GET /v1/me/budget, the subscriber space). */
export async function subscriberBudget(
  sql: Sql,
  subscriber: ControlColumns & { id: string; operatorId: string },
  now: Date,
): Promise<Budget> {
  const operator = await findOperatorLimits(sql, subscriber.operatorId);
  if (!operator) throw new Error(`Operator ${subscriber.operatorId} of subscriber ${subscriber.id} not found`);
  const spent = await spentBy(sql, subscriber.id, now);
  return budget(subscriberLimits(subscriber, operator), spent.week, spent.month);
}
