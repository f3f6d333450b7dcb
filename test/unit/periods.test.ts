import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { monthStart, weekStart } from '../../src/domain/periods.js';

describe('ceiling windows in Europe/Paris', () => {
  it('When it is Sunday 23:30 in Paris (22:30 UTC in winter), then the week started the previous Monday', () => {
    expect(weekStart(new Date('2026-11-29T22:30:00Z')).toISOString()).toBe('2026-11-22T23:00:00.000Z');
  });

  it('When it is Monday 00:30 in Paris (Sunday 23:30 UTC), then a new week has started', () => {
    expect(weekStart(new Date('2026-11-29T23:30:00Z')).toISOString()).toBe('2026-11-29T23:00:00.000Z');
  });

  it('When it is in summer time, then Monday 00:00 Paris is 22:00 UTC on Sunday', () => {
    expect(weekStart(new Date('2026-07-15T12:00:00Z')).toISOString()).toBe('2026-07-12T22:00:00.000Z');
  });

  it('When it is the 1st at 00:30 Paris (still the 30th in UTC), then the month is the new one', () => {
    expect(monthStart(new Date('2026-11-30T23:30:00Z')).toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(monthStart(new Date('2026-11-30T22:30:00Z')).toISOString()).toBe('2026-10-31T23:00:00.000Z');
  });

  it('When a month starts across a daylight-saving change, then its start is local midnight', () => {
    // 1 November 2026 00:00 Paris is after the October change: UTC+1.
    expect(monthStart(new Date('2026-11-10T10:00:00Z')).toISOString()).toBe('2026-10-31T23:00:00.000Z');
    // 1 April 2026 00:00 Paris is after the March change: UTC+2.
    expect(monthStart(new Date('2026-04-10T10:00:00Z')).toISOString()).toBe('2026-03-31T22:00:00.000Z');
  });

  it('When an ISO week spans two months, then week and month starts differ', () => {
    const at = new Date('2026-12-02T10:00:00Z'); // Wednesday
    expect(weekStart(at).toISOString()).toBe('2026-11-29T23:00:00.000Z');
    expect(monthStart(at).toISOString()).toBe('2026-11-30T23:00:00.000Z');
  });
});

const paris = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris',
  weekday: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** "Mon 00:00:00" or "01 00:00:00" as a wall clock in Paris shows `at`. */
function parisWallClock(at: Date, field: 'weekday' | 'day'): string {
  const parts = Object.fromEntries(paris.formatToParts(at).map((part) => [part.type, part.value]));
  return `${parts[field]} ${parts.hour}:${parts.minute}:${parts.second}`;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
// 2020 to 2040, to the millisecond: daylight-saving changes included many times over.
const instants = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) }).map((ms) => new Date(ms));

describe('ceiling windows, whatever the instant and the order of the questions', () => {
  it('When any instant is asked, then its week starts on the Monday 00:00 Paris before it and ends at the next', () => {
    fc.assert(
      fc.property(instants, (at) => {
        const start = weekStart(at);
        const next = weekStart(new Date(start.getTime() + 8 * DAY_MS));
        expect(parisWallClock(start, 'weekday')).toBe('Mon 00:00:00');
        expect(parisWallClock(next, 'weekday')).toBe('Mon 00:00:00');
        expect(start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(at.getTime()).toBeLessThan(next.getTime());
        // A week is 168 hours, or 167 and 169 across a daylight-saving change.
        expect(Math.abs(next.getTime() - start.getTime() - 7 * DAY_MS)).toBeLessThanOrEqual(HOUR_MS);
      }),
      { numRuns: 2000 },
    );
  });

  it('When any instant is asked, then its month starts on the 1st 00:00 Paris before it and ends at the next', () => {
    fc.assert(
      fc.property(instants, (at) => {
        const start = monthStart(at);
        const next = monthStart(new Date(start.getTime() + 32 * DAY_MS));
        expect(parisWallClock(start, 'day')).toBe('01 00:00:00');
        expect(parisWallClock(next, 'day')).toBe('01 00:00:00');
        expect(start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(at.getTime()).toBeLessThan(next.getTime());
        expect(next.getTime() - start.getTime()).toBeLessThanOrEqual(31 * DAY_MS + HOUR_MS);
      }),
      { numRuns: 2000 },
    );
  });

  it('When instants an hour apart are asked in a row, then each gets the starts it gets when asked alone', () => {
    const far = new Date(Date.UTC(1990, 0, 1));
    const alone = (at: Date) => {
      // Asking about another decade first leaves nothing of `at`'s hour behind.
      weekStart(far);
      return [weekStart(at).getTime(), monthStart(at).getTime()];
    };
    fc.assert(
      fc.property(instants, fc.integer({ min: 0, max: HOUR_MS - 1 }), (at, withinHourMs) => {
        // Three days of hours, each asked twice: at its start and somewhere inside it, so that a
        // computation kept for longer than its hour, or for the wrong hour, answers for the wrong one.
        const hours = Array.from({ length: 72 }, (_, i) => Math.floor(at.getTime() / HOUR_MS) + i - 36);
        const asked = hours.flatMap((hour) => [new Date(hour * HOUR_MS), new Date(hour * HOUR_MS + withinHourMs)]);
        const inARow = asked.map((instant) => [weekStart(instant).getTime(), monthStart(instant).getTime()]);
        expect(inARow).toEqual(asked.map(alone));
      }),
      { numRuns: 200 },
    );
  });
});
