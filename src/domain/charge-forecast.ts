import { TZDate } from '@date-fns/tz';
import { addMonths, addWeeks } from 'date-fns';
import type { Sql } from '../store/sql.js';
import { authorize, type AuthorizationInput } from './ceilings.js';
import type { DeclineCode } from './errors.js';
import { Decimal } from '../shared/money.js';
import { BILLING_TIME_ZONE, monthStart, weekStart } from './periods.js';
import { householdControls, spentBy, subscriberLimits, type ControlColumns, type OperatorLimits } from './spending.js';

/** When the budget of the week holding `at` starts again: next Monday 00:00, Paris time. */
export function nextWeekStart(at: Date): Date {
  return new Date(addWeeks(new TZDate(weekStart(at).getTime(), BILLING_TIME_ZONE), 1).getTime());
}

/** When the budget of the month holding `at` starts again: the 1st of next month, 00:00 Paris time. */
export function nextMonthStart(at: Date): Date {
  return new Date(addMonths(new TZDate(monthStart(at).getTime(), BILLING_TIME_ZONE), 1).getTime());
}

/**
 * A decline that a confirmation made now would certainly meet, with the facts a
 * person needs to understand it: which limit, how much is left, when it resets.
 */
export type Forecast =
  | { code: 'publisher_suspended' | 'account_blocked' }
  | { code: 'category_blocked'; category: string }
  | { code: 'per_purchase_limit'; limit: Decimal }
  | { code: 'weekly_ceiling' | 'monthly_ceiling'; limit: Decimal; remaining: Decimal; resetsAt: Date };

/** The same decision as a confirmation (authorize), explained; null when nothing stands in the way. */
export function explainDecline(input: AuthorizationInput, now: Date): Forecast | null {
  const code: DeclineCode | null = authorize(input);
  switch (code) {
    case null:
      return null;
    case 'publisher_suspended':
    case 'account_blocked':
      return { code };
    case 'category_blocked':
      return { code, category: input.category };
    case 'per_purchase_limit':
      return { code, limit: input.limits.perPurchase };
    case 'weekly_ceiling':
      return {
        code,
        limit: input.limits.weekly,
        remaining: Decimal.max(0, input.limits.weekly.minus(input.spentThisWeek)),
        resetsAt: nextWeekStart(now),
      };
    case 'monthly_ceiling':
      return {
        code,
        limit: input.limits.monthly,
        remaining: Decimal.max(0, input.limits.monthly.minus(input.spentThisMonth)),
        resetsAt: nextMonthStart(now),
      };
  }
}

/**
 * What a consent page may promise before the click: the charge as a
 * confirmation would decide it now, read without locks (the confirmation
 * itself decides again under the subscriber's lock).
 */
export async function forecastCharge(
  sql: Sql,
  subscriber: ControlColumns & { id: string },
  operator: OperatorLimits,
  publisher: { category: string; suspendedAt: Date | null },
  amount: Decimal,
  now = new Date(),
): Promise<Forecast | null> {
  const spent = await spentBy(sql, subscriber.id, now);
  return explainDecline(
    {
      amount,
      category: publisher.category,
      publisherSuspended: publisher.suspendedAt !== null,
      limits: subscriberLimits(subscriber, operator),
      controls: householdControls(subscriber),
      spentThisWeek: spent.week,
      spentThisMonth: spent.month,
    },
    now,
  );
}
