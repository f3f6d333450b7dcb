import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_DELAYS_MS, retryDelayMs } from '../../src/domain/webhook-delivery.js';

const HOUR_MS = 60 * 60 * 1000;

describe('webhook retry schedule', () => {
  it('When every attempt fails, then retries span at least 24 hours before the event is given up', () => {
    const delays: number[] = [];
    for (let attemptsMade = 1; ; attemptsMade++) {
      const delay = retryDelayMs(attemptsMade);
      if (delay === null) break;
      delays.push(delay);
    }
    expect(delays).toEqual([...DEFAULT_RETRY_DELAYS_MS]);
    expect(delays.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * HOUR_MS);
  });

  it('When attempts fail one after another, then each wait is at least as long as the one before', () => {
    for (let i = 1; i < DEFAULT_RETRY_DELAYS_MS.length; i++) {
      expect(DEFAULT_RETRY_DELAYS_MS[i]).toBeGreaterThanOrEqual(DEFAULT_RETRY_DELAYS_MS[i - 1] as number);
    }
  });

  it('When the first attempt fails, then the retry comes within seconds', () => {
    expect(retryDelayMs(1)).toBe(5000);
  });

  it('When a custom schedule is spent, then the next delay is null (give up)', () => {
    expect(retryDelayMs(2, [10, 20])).toBe(20);
    expect(retryDelayMs(3, [10, 20])).toBeNull();
  });
});
