import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_DB_TIMEOUTS } from '../../src/store/db-timeouts.js';

describe('database deadlines from the environment', () => {
  it('When none is set, then every pool fails fast by the defaults', () => {
    expect(loadConfig({}).databaseTimeouts).toEqual(DEFAULT_DB_TIMEOUTS);
  });

  it('When they are set, then the pool wait, lock and statement deadlines follow, the client one a second later', () => {
    const timeouts = loadConfig({
      DATABASE_POOL_WAIT_MS: '30000',
      DATABASE_LOCK_TIMEOUT_MS: '25000',
      DATABASE_STATEMENT_TIMEOUT_MS: '40000',
    }).databaseTimeouts;
    expect(timeouts).toEqual({
      ...DEFAULT_DB_TIMEOUTS,
      poolWaitMs: 30_000,
      lockMs: 25_000,
      statementMs: 40_000,
      queryMs: 41_000,
    });
  });

  it('When a deadline is not a whole number of milliseconds, then start-up refuses it by name', () => {
    expect(() => loadConfig({ DATABASE_LOCK_TIMEOUT_MS: '2s' })).toThrow(/DATABASE_LOCK_TIMEOUT_MS/);
  });
});
