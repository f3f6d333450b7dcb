import { TZDate } from '@date-fns/tz';
import { startOfISOWeek, startOfMonth } from 'date-fns';

export const BILLING_TIME_ZONE = 'Europe/Paris';

const HOUR_MS = 60 * 60 * 1000;

interface Starts {
  hour: number;
  weekMs: number;
  monthMs: number;
}

let lastHour: Starts = { hour: Number.NaN, weekMs: 0, monthMs: 0 };

/**
 * Europe/Paris is always a whole number of hours from UTC and changes offset
 * on the hour, so its weeks and months start on whole UTC hours and every
 * instant of one UTC hour shares both starts. Every confirmation asks for
 * them, and the time-zone arithmetic was a visible share of its CPU: they are
 * computed once per hour instead.
 */
function startsOf(at: Date): Starts {
  const hour = Math.floor(at.getTime() / HOUR_MS);
  if (hour !== lastHour.hour) {
    const local = new TZDate(at, BILLING_TIME_ZONE);
    lastHour = { hour, weekMs: startOfISOWeek(local).getTime(), monthMs: startOfMonth(local).getTime() };
  }
  return lastHour;
}

/** Monday 00:00 Europe/Paris of the ISO week holding `at`, as an instant. */
export function weekStart(at: Date): Date {
  return new Date(startsOf(at).weekMs);
}

/** The 1st 00:00 Europe/Paris of the calendar month holding `at`, as an instant. */
export function monthStart(at: Date): Date {
  return new Date(startsOf(at).monthMs);
}
