import type { Operator, Subscriber } from '../generated/prisma/client.js';
import type { Db, Tx } from '../store/db.js';
import { limitsInForce, type HouseholdControls, type Limits } from './ceilings.js';
import { Decimal } from './money.js';
import { monthStart, weekStart } from './periods.js';

/** Statuses whose amount (less refunds) counts against a subscriber's ceilings. */
export const SPENDING_STATUSES = ['confirmed', 'refunded', 'disputed'] as const;

export interface Spent {
  week: Decimal;
  month: Decimal;
}

/**
 * What the subscriber spent in the ISO week and calendar month holding `now`,
 * read from PostgreSQL, the system of record: nothing cached can drift from it.
 */
export async function spentBy(db: Db | Tx, subscriberId: string, now: Date): Promise<Spent> {
  const week = weekStart(now);
  const month = monthStart(now);
  const rows = await db.$queryRaw<{ week: string; month: string }[]>`
    SELECT COALESCE(SUM(amount - refunded_amount) FILTER (WHERE confirmed_at >= ${week}), 0)::text AS week,
           COALESCE(SUM(amount - refunded_amount) FILTER (WHERE confirmed_at >= ${month}), 0)::text AS month
    FROM purchases
    WHERE subscriber_id = ${subscriberId}
      AND confirmed_at >= LEAST(${week}::timestamptz, ${month}::timestamptz)
      AND status IN ('confirmed', 'refunded', 'disputed')`;
  const row = rows[0] ?? { week: '0', month: '0' };
  return { week: new Decimal(row.week), month: new Decimal(row.month) };
}

/** The operator columns that ceilings need; nothing secret. */
export type OperatorLimitColumns = Pick<Operator, 'limitPerPurchase' | 'limitWeekly' | 'limitMonthly'>;

export function operatorLimits(operator: OperatorLimitColumns): Limits {
  return {
    perPurchase: new Decimal(operator.limitPerPurchase.toString()),
    weekly: new Decimal(operator.limitWeekly.toString()),
    monthly: new Decimal(operator.limitMonthly.toString()),
  };
}

/** A holder's controls apply to children only; a holder has none. */
export function householdControls(subscriber: Subscriber): HouseholdControls | null {
  if (!subscriber.holderId) return null;
  return {
    blocked: subscriber.blocked,
    blockedCategories: subscriber.blockedCategories,
    weekly: subscriber.limitWeekly ? new Decimal(subscriber.limitWeekly.toString()) : null,
    monthly: subscriber.limitMonthly ? new Decimal(subscriber.limitMonthly.toString()) : null,
  };
}

export function subscriberLimits(subscriber: Subscriber, operator: OperatorLimitColumns): Limits {
  return limitsInForce(operatorLimits(operator), householdControls(subscriber));
}
