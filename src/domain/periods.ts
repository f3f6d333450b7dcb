import { TZDate } from '@date-fns/tz';
import { startOfISOWeek, startOfMonth } from 'date-fns';

export const BILLING_TIME_ZONE = 'Europe/Paris';

/** Monday 00:00 Europe/Paris of the ISO week holding `at`, as an instant. */
export function weekStart(at: Date): Date {
  return new Date(startOfISOWeek(new TZDate(at, BILLING_TIME_ZONE)).getTime());
}

/** The 1st 00:00 Europe/Paris of the calendar month holding `at`, as an instant. */
export function monthStart(at: Date): Date {
  return new Date(startOfMonth(new TZDate(at, BILLING_TIME_ZONE)).getTime());
}
