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
