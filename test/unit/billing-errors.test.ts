import { describe, expect, it } from 'vitest';
import { isTransientBillingError } from '../../src/domain/billing.js';

const pgError = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isTransientBillingError: which chunk failures count as an attempt', () => {
  it('When the connection was lost or a lock or serialization conflict hit, then the failure is transient', () => {
    for (const code of ['08006', '08003', '40001', '40P01', '55P03', '57P01', '57P03', '53300'])
      expect(isTransientBillingError(pgError(code)), code).toBe(true);
    expect(isTransientBillingError(pgError('ECONNRESET'))).toBe(true);
    expect(isTransientBillingError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientBillingError(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('When a constraint, a statement timeout or a bug failed the chunk, then it counts as an attempt', () => {
    for (const code of ['23505', '23514', '57014', '22003', 'P0001'])
      expect(isTransientBillingError(pgError(code)), code).toBe(false);
    expect(isTransientBillingError(new TypeError('x is undefined'))).toBe(false);
  });
});
