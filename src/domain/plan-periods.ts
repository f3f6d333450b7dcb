import { TZDate } from '@date-fns/tz';
import { addMonths, addWeeks } from 'date-fns';
import { BILLING_TIME_ZONE } from './periods.js';
import type { Plan } from '../shared/catalogue.js';

/**
 * The end of the n-th period of a subscription that started at `anchor`,
 * counted on the Europe/Paris calendar. Always computed from the anchor, never
 * from the previous end: a Jan 31 monthly subscription clamps to Feb 29 and
 * still renews on Mar 31. The local wall-clock time is kept across daylight
 * saving changes; a time the clocks skip (02:30 on the last Sunday of March)
 * moves an hour later, and one they repeat (October) takes the later instant.
 */
export function periodBoundary(anchor: Date, plan: Plan, n: number): Date {
  const local = new TZDate(anchor.getTime(), BILLING_TIME_ZONE);
  const shifted = plan === 'weekly' ? addWeeks(local, n) : addMonths(local, plan === 'monthly' ? n : 3 * n);
  return new Date(shifted.getTime());
}

/** The first period boundary strictly after `after`, for a subscription anchored at `anchor`. */
export function nextPeriodEnd(anchor: Date, plan: Plan, after: Date): Date {
  // Boundaries strictly increase with n, so the walk ends; a subscription has at
  // most a few hundred periods in its life.
  for (let n = 1; ; n++) {
    const boundary = periodBoundary(anchor, plan, n);
    if (boundary > after) return boundary;
  }
}

export interface Period {
  start: Date;
  end: Date;
}

/**
 * The period holding `at`, for a subscription anchored at `anchor` and paid up
 * to `from` (a boundary). Periods between `from` and `at` that ended unpaid are
 * skipped: a renewal never bills a period that is already over.
 */
export function periodHolding(anchor: Date, plan: Plan, from: Date, at: Date): Period {
  let n = 1;
  while (periodBoundary(anchor, plan, n) <= from) n++;
  while (periodBoundary(anchor, plan, n) <= at) n++;
  const previous = periodBoundary(anchor, plan, n - 1);
  return { start: previous > from ? previous : from, end: periodBoundary(anchor, plan, n) };
}
