import { describe, expect, it } from 'vitest';
import { disputeRate, shouldSuspend, suspensionPolicy } from '../../src/domain/dispute-rate.js';
import { disputeRateResource } from '../../src/http/presenters/dispute-rate.js';
import { loadConfig } from '../../src/config.js';

const policy = { threshold: '0.01', minConfirmedPurchases: 100 };

describe('disputeRate', () => {
  it('When nothing was confirmed, then there is no rate', () => {
    expect(disputeRate({ disputes: 3, confirmedPurchases: 0 })).toBeNull();
  });

  it('When 1 purchase in 4 is disputed, then the rate is 0.25', () => {
    expect(disputeRate({ disputes: 1, confirmedPurchases: 4 })?.toString()).toBe('0.25');
  });
});

describe('shouldSuspend: the automatic suspension rule', () => {
  it('When the rate is exactly the threshold, then the publisher is not suspended', () => {
    expect(shouldSuspend({ disputes: 2, confirmedPurchases: 200 }, policy)).toBe(false);
  });

  it('When the rate is just above the threshold with enough purchases, then the publisher is suspended', () => {
    expect(shouldSuspend({ disputes: 3, confirmedPurchases: 200 }, policy)).toBe(true);
  });

  it('When a small publisher has a high rate below the minimum sample, then it is not suspended', () => {
    expect(shouldSuspend({ disputes: 1, confirmedPurchases: 99 }, policy)).toBe(false);
    expect(shouldSuspend({ disputes: 2, confirmedPurchases: 100 }, policy)).toBe(true);
  });

  it('When the threshold is a float such as 0.07, then the comparison is still exact in decimals', () => {
    expect(shouldSuspend({ disputes: 7, confirmedPurchases: 100 }, { threshold: 0.07, minConfirmedPurchases: 0 })).toBe(
      false,
    );
    expect(shouldSuspend({ disputes: 8, confirmedPurchases: 100 }, { threshold: 0.07, minConfirmedPurchases: 0 })).toBe(
      true,
    );
  });
});

describe('dispute-rate configuration', () => {
  it('When nothing is configured, then the threshold is 1% and the minimum sample 100 purchases', () => {
    expect(suspensionPolicy(loadConfig({}))).toEqual({ threshold: 0.01, minConfirmedPurchases: 100 });
  });

  it('When DISPUTE_RATE_SUSPEND_THRESHOLD is set, then it is used, and a value outside 0..1 refuses to start', () => {
    expect(loadConfig({ DISPUTE_RATE_SUSPEND_THRESHOLD: '0.005' }).disputeRateSuspendThreshold).toBe(0.005);
    expect(() => loadConfig({ DISPUTE_RATE_SUSPEND_THRESHOLD: '2' })).toThrow(/fraction/);
    expect(() => loadConfig({ DISPUTE_RATE_SUSPEND_THRESHOLD: '-0.1' })).toThrow(/fraction/);
  });

  it('When the admin reads the rate, then it is a decimal string and says whether the rule would suspend', () => {
    const view = disputeRateResource('pub_1', { disputes: 1, confirmedPurchases: 3 }, policy, null);
    expect(view).toMatchObject({
      disputeRate: '0.333333',
      disputes: 1,
      confirmedPurchases: 3,
      wouldSuspend: false,
      suspended: false,
      windowDays: 30,
    });
  });
});
