import { TZDate } from '@date-fns/tz';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BILLING_TIME_ZONE } from '../../src/domain/periods.js';
import { nextPeriodEnd, periodBoundary, periodHolding } from '../../src/domain/plan-periods.js';
import { PLANS } from '../../src/shared/catalogue.js';

const RUNS = { numRuns: 200 };
const DAY_MS = 24 * 3_600_000;

/** Anchors from 2024 to 2035, to the minute: leap years, DST changes and month ends all come up. */
const anchor = fc
  .integer({ min: Date.UTC(2024, 0, 1) / 60_000, max: Date.UTC(2035, 0, 1) / 60_000 })
  .map((m) => new Date(m * 60_000));
const plan = fc.constantFrom(...PLANS);
const laterBy = (from: Date, maxDays: number) =>
  fc.integer({ min: 0, max: maxDays * 24 * 60 }).map((m) => new Date(from.getTime() + m * 60_000));

/** Shortest and longest a period may last, a DST hour either way. */
const BOUNDS: Record<(typeof PLANS)[number], [number, number]> = {
  weekly: [7 * DAY_MS - 3_600_000, 7 * DAY_MS + 3_600_000],
  monthly: [28 * DAY_MS - 3_600_000, 31 * DAY_MS + 3_600_000],
  quarterly: [89 * DAY_MS - 3_600_000, 92 * DAY_MS + 3_600_000],
};

describe('Plan periods (properties)', () => {
  it('When periods are counted from any anchor, then boundaries strictly increase and each period lasts a week, month or quarter', () => {
    fc.assert(
      fc.property(anchor, plan, fc.integer({ min: 1, max: 40 }), (start, p, n) => {
        const before = periodBoundary(start, p, n - 1);
        const after = periodBoundary(start, p, n);
        const [shortest, longest] = BOUNDS[p];
        expect(after.getTime() - before.getTime()).toBeGreaterThanOrEqual(shortest);
        expect(after.getTime() - before.getTime()).toBeLessThanOrEqual(longest);
      }),
      RUNS,
    );
  });

  it("When a monthly period ends, then it is on the anchor's day of month, or the last day of a shorter month", () => {
    fc.assert(
      fc.property(anchor, fc.integer({ min: 1, max: 36 }), (start, n) => {
        const local = new TZDate(start.getTime(), BILLING_TIME_ZONE);
        const end = new TZDate(periodBoundary(start, 'monthly', n).getTime(), BILLING_TIME_ZONE);
        const lastDay = new TZDate(end.getFullYear(), end.getMonth() + 1, 0, BILLING_TIME_ZONE).getDate();
        expect(end.getDate()).toBe(Math.min(local.getDate(), lastDay));
      }),
      RUNS,
    );
  });

  it('When the next period end is asked after any instant, then it is the first boundary strictly after it', () => {
    fc.assert(
      fc.property(anchor, plan, fc.integer({ min: 0, max: 900 }), (start, p, days) => {
        const after = new Date(start.getTime() + days * DAY_MS);
        const end = nextPeriodEnd(start, p, after);
        expect(end > after).toBe(true);
        let n = 1;
        while (periodBoundary(start, p, n) < end) n++;
        expect(periodBoundary(start, p, n).getTime()).toBe(end.getTime());
        expect(n === 1 || periodBoundary(start, p, n - 1) <= after).toBe(true);
      }),
      RUNS,
    );
  });

  it('When a renewal asks for the period holding an instant, then the period holds it and never starts before what was paid', () => {
    fc.assert(
      fc.property(
        anchor.chain((start) =>
          fc.tuple(fc.constant(start), plan, fc.integer({ min: 1, max: 3 }), laterBy(start, 400)),
        ),
        ([start, p, paidPeriods, at]) => {
          const paidTo = periodBoundary(start, p, paidPeriods);
          const period = periodHolding(start, p, paidTo, at);
          expect(period.start >= paidTo).toBe(true);
          expect(period.end > at).toBe(true);
          expect(period.end > period.start).toBe(true);
          if (at >= paidTo) expect(period.start <= at).toBe(true);
        },
      ),
      RUNS,
    );
  });
});
