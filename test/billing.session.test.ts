import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingTransaction, DEFAULT_BILLING_LIMITS } from '../src/store/billing-session.js';
import { databaseOn, type Connection } from '../src/store/database.js';
import { createPool } from '../src/store/db.js';
import { DEFAULT_DB_TIMEOUTS } from '../src/store/db-timeouts.js';
import { TEST_DATABASE_URL } from './support/env.js';

/**
 * Billing runs on the process's one pool, whose deadlines are a request's: its
 * transactions carry their own bounds and name, and hand the connection back
 * as they found it. One connection, so every statement here shares it.
 */
let worker: Connection;
beforeAll(() => {
  worker = databaseOn(
    createPool(TEST_DATABASE_URL, 1, { ...DEFAULT_DB_TIMEOUTS, statementMs: 400, queryMs: 500, lockMs: 300 }),
  );
});
afterAll(() => worker.close());

interface Settings {
  application_name: string;
  statement_timeout: string;
  lock_timeout: string;
}

const SETTINGS = `SELECT current_setting('application_name') AS application_name,
  current_setting('statement_timeout') AS statement_timeout, current_setting('lock_timeout') AS lock_timeout`;

describe("billing's transactions on the process's one pool", () => {
  it("When billing works in a transaction, then it is named kiosque-billing with billing's bounds, and the connection is the pool's again after", async () => {
    const before = (await worker.pool.query<Settings>(SETTINGS)).rows[0];
    expect(before).toMatchObject({ statement_timeout: '400ms', lock_timeout: '300ms' });
    expect(before?.application_name).not.toBe('kiosque-billing');

    const inside = await billingTransaction(worker, DEFAULT_BILLING_LIMITS, 30_000, async (client) => {
      const { rows } = await client.query<Settings>(SETTINGS);
      return rows[0];
    });
    expect(inside).toEqual({ application_name: 'kiosque-billing', statement_timeout: '30s', lock_timeout: '10s' });

    expect((await worker.pool.query<Settings>(SETTINGS)).rows[0]).toEqual(before);
  });

  it("When a billing statement runs longer than the pool's request deadlines, then billing waits for it and a request does not", async () => {
    const slept = await billingTransaction(worker, DEFAULT_BILLING_LIMITS, 10_000, async (client) => {
      const { rows } = await client.query<{ slept: boolean }>('SELECT pg_sleep(1) IS NOT NULL AS slept');
      return rows[0]?.slept;
    });
    expect(slept).toBe(true);

    await expect(worker.pool.query('SELECT pg_sleep(1)')).rejects.toThrow(/statement timeout|Query read timeout/);
  });
});
