import { describe, expect, it } from 'vitest';
import { billingWorkerSettings } from '../../workers/billing.js';

describe('billingWorkerSettings: the billing worker configured by environment', () => {
  it('When nothing is set, then one run at a time, 30 s locks and a 30 s recovery sweep, no test pause', () => {
    expect(billingWorkerSettings({})).toEqual({
      concurrency: 1,
      lockDurationMs: 30_000,
      sweepIntervalMs: 30_000,
      pauseBeforeCommitMs: 0,
    });
  });

  it('When a setting is not a whole number, then the worker refuses to start', () => {
    expect(() => billingWorkerSettings({ BILLING_SWEEP_INTERVAL_MS: '1.5' })).toThrow(/BILLING_SWEEP_INTERVAL_MS/);
  });
});
