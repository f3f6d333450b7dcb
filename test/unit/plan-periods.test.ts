import { describe, expect, it } from 'vitest';
import { nextPeriodEnd, periodBoundary, periodHolding } from '../../src/domain/plan-periods.js';

const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();

describe('periodBoundary: plan periods on the Europe/Paris calendar', () => {
  it('When a weekly plan starts on a Tuesday, then each period ends the next Tuesday at the same time', () => {
    const anchor = at('2026-01-06T09:15:00+01:00');
    expect(iso(periodBoundary(anchor, 'weekly', 1))).toBe('2026-01-13T08:15:00.000Z');
    expect(iso(periodBoundary(anchor, 'weekly', 52))).toBe('2027-01-05T08:15:00.000Z');
  });

  it('When a monthly plan starts on the 15th, then it renews on the 15th of each month', () => {
    const anchor = at('2026-01-15T12:00:00+01:00');
    expect(iso(periodBoundary(anchor, 'monthly', 1))).toBe('2026-02-15T11:00:00.000Z');
    expect(iso(periodBoundary(anchor, 'monthly', 12))).toBe('2027-01-15T11:00:00.000Z');
  });

  it('When a monthly plan starts on Jan 31 of a leap year, then it renews Feb 29, then Mar 31, then Apr 30', () => {
    const anchor = at('2024-01-31T10:00:00+01:00');
    expect(iso(periodBoundary(anchor, 'monthly', 1))).toBe('2024-02-29T09:00:00.000Z');
    expect(iso(periodBoundary(anchor, 'monthly', 2))).toBe('2024-03-31T08:00:00.000Z');
    expect(iso(periodBoundary(anchor, 'monthly', 3))).toBe('2024-04-30T08:00:00.000Z');
  });

  it('When a monthly plan starts on Jan 31 of a common year, then it renews Feb 28', () => {
    expect(iso(periodBoundary(at('2026-01-31T10:00:00+01:00'), 'monthly', 1))).toBe('2026-02-28T09:00:00.000Z');
  });

  it('When a monthly plan starts on Feb 29, then the next year it renews Feb 28 and keeps the 29th where it exists', () => {
    const anchor = at('2024-02-29T10:00:00+01:00');
    expect(iso(periodBoundary(anchor, 'monthly', 1))).toBe('2024-03-29T09:00:00.000Z');
    expect(iso(periodBoundary(anchor, 'monthly', 12))).toBe('2025-02-28T09:00:00.000Z');
    expect(iso(periodBoundary(anchor, 'monthly', 13))).toBe('2025-03-29T09:00:00.000Z');
  });

  it('When a quarterly plan starts on Nov 30, then it renews Feb 28, May 30 and Aug 30', () => {
    const anchor = at('2025-11-30T08:00:00+01:00');
    expect(iso(periodBoundary(anchor, 'quarterly', 1))).toBe('2026-02-28T07:00:00.000Z');
    expect(iso(periodBoundary(anchor, 'quarterly', 2))).toBe('2026-05-30T06:00:00.000Z');
    expect(iso(periodBoundary(anchor, 'quarterly', 3))).toBe('2026-08-30T06:00:00.000Z');
  });

  it('When a weekly period crosses the March change to summer time, then it ends at the same Paris wall-clock time, an hour less later', () => {
    const anchor = at('2026-03-23T10:00:00+01:00');
    const end = periodBoundary(anchor, 'weekly', 1);
    expect(iso(end)).toBe('2026-03-30T08:00:00.000Z');
    expect(end.getTime() - anchor.getTime()).toBe((7 * 24 - 1) * 3600_000);
  });

  it('When a monthly period crosses the October change to winter time, then it ends at the same Paris wall-clock time', () => {
    const anchor = at('2026-10-10T20:30:00+02:00');
    expect(iso(periodBoundary(anchor, 'monthly', 1))).toBe('2026-11-10T19:30:00.000Z');
  });

  it('When the wall-clock time does not exist on the renewal day (02:30 on the March change), then it moves an hour later', () => {
    expect(iso(periodBoundary(at('2026-03-22T02:30:00+01:00'), 'weekly', 1))).toBe('2026-03-29T01:30:00.000Z');
  });

  it('When the wall-clock time happens twice on the renewal day (02:30 on the October change), then the later instant is taken', () => {
    expect(iso(periodBoundary(at('2026-10-18T02:30:00+02:00'), 'weekly', 1))).toBe('2026-10-25T01:30:00.000Z');
  });

  it('When a monthly plan starts just after midnight in Paris, then the Paris date, not the UTC date, decides', () => {
    // Mar 1 00:30 in Paris is still Feb 28 in UTC: counted in UTC it would renew on Mar 28.
    const anchor = at('2026-03-01T00:30:00+01:00');
    expect(iso(periodBoundary(anchor, 'monthly', 1))).toBe('2026-03-31T22:30:00.000Z');
  });
});

describe('nextPeriodEnd', () => {
  const anchor = at('2024-01-31T10:00:00+01:00');

  it('When a period ends, then the next end is the following boundary counted from the anchor', () => {
    expect(iso(nextPeriodEnd(anchor, 'monthly', periodBoundary(anchor, 'monthly', 1)))).toBe(
      '2024-03-31T08:00:00.000Z',
    );
  });

  it('When asked from the anchor itself, then the first boundary comes back', () => {
    expect(iso(nextPeriodEnd(anchor, 'monthly', anchor))).toBe('2024-02-29T09:00:00.000Z');
  });

  it('When asked from inside a period, then the end of that period comes back', () => {
    expect(iso(nextPeriodEnd(anchor, 'weekly', at('2024-02-10T00:00:00Z')))).toBe('2024-02-14T09:00:00.000Z');
  });
});

describe('periodHolding: which period a renewal charges', () => {
  const anchor = at('2024-01-31T10:00:00+01:00');
  const feb29 = periodBoundary(anchor, 'monthly', 1);

  it('When the renewal runs within the due period, then that period is charged', () => {
    const period = periodHolding(anchor, 'monthly', feb29, at('2024-03-03T00:00:00Z'));
    expect({ start: iso(period.start), end: iso(period.end) }).toEqual({
      start: '2024-02-29T09:00:00.000Z',
      end: '2024-03-31T08:00:00.000Z',
    });
  });

  it('When the renewal runs exactly at the due date, then the period starting then is charged', () => {
    expect(iso(periodHolding(anchor, 'monthly', feb29, feb29).start)).toBe('2024-02-29T09:00:00.000Z');
  });

  it('When whole periods passed unpaid, then only the period holding now is charged, still on the anchor', () => {
    const weekly = at('2026-03-02T09:00:00+01:00');
    const due = periodBoundary(weekly, 'weekly', 1);
    const period = periodHolding(weekly, 'weekly', due, at('2026-03-30T12:00:00+02:00'));
    // Mar 9, 16 and 23 ended unpaid; Mar 30 09:00 Paris is already summer time.
    expect({ start: iso(period.start), end: iso(period.end) }).toEqual({
      start: '2026-03-30T07:00:00.000Z',
      end: '2026-04-06T07:00:00.000Z',
    });
  });
});
