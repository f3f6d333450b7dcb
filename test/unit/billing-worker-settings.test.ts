import { describe, expect, it } from 'vitest';
import { billingWorkerSettings } from '../../workers/billing.js';

describe('billingWorkerSettings: the billing worker configured by environment', () => {
  it('When nothing is set, then one run at a time in two parallel chunks of 2,000 payers, a 2 s chunk sweep, a 30 s recovery sweep, 30 s statements and 10 s lock waits', () => {
    expect(billingWorkerSettings({})).toEqual({
      concurrency: 1,
      parallelism: 2,
      chunkPayers: 2_000,
      lockDurationMs: 30_000,
      sweepIntervalMs: 30_000,
      chunkSweepIntervalMs: 2_000,
      statementTimeoutMs: 30_000,
      lockTimeoutMs: 10_000,
    });
  });

  it('When parallelism or the chunk size is zero, then the worker refuses to start', () => {
    expect(() => billingWorkerSettings({ BILLING_PARALLELISM: '0' })).toThrow(/BILLING_PARALLELISM/);
    expect(() => billingWorkerSettings({ BILLING_CHUNK_PAYERS: '0' })).toThrow(/BILLING_CHUNK_PAYERS/);
  });

  it('When a setting is not a whole number, then the worker refuses to start', () => {
    expect(() => billingWorkerSettings({ BILLING_SWEEP_INTERVAL_MS: '1.5' })).toThrow(/BILLING_SWEEP_INTERVAL_MS/);
  });
});
