import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../src/server.js';
import { ensureDatabase, MIGRATION_LOCK_KEY } from '../src/store/migrate.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { admin, bearer, testConfig, unique } from './support/harness.js';

/** A database of this file's own, created empty: the gateway started on it has every migration to apply. */
const freshName = unique('kiosque_fresh')
  .replace(/[^a-z0-9_]/gi, '_')
  .toLowerCase();
const freshUrl = (() => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${freshName}`;
  return url.toString();
})();
const serverUrl = (() => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = '/postgres';
  return url.toString();
})();

let locker: pg.Client;
let gateway: Gateway;
let base: string;

beforeAll(async () => {
  await ensureDatabase(freshUrl);
  // Holding the migrations' advisory lock keeps the gateway's migration provably in progress, for as long as the test needs.
  locker = new pg.Client({ connectionString: freshUrl });
  await locker.connect();
  await locker.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  gateway = await startGateway(
    testConfig({ port: 0, databaseUrl: freshUrl, runWorkers: false, queuePrefix: unique('kq-fresh') }),
  );
  const address = gateway.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await locker?.end();
  await gateway?.close();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${freshName}" WITH (FORCE)`);
  await admin.end();
});

/** Backends of the fresh database waiting for the migrations' advisory lock: the gateway's migration. */
async function migrationsWaiting(): Promise<number> {
  const { rows } = await locker.query<{ waiting: number }>(
    `SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`,
  );
  return rows[0]?.waiting ?? 0;
}

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

describe('Readiness means ready (issue 21, item 5)', () => {
  it('When migrations are in progress on a fresh database, then /v1 and the pages answer 503 with Retry-After, never 500 nor 2xx, and are served once migrated', async () => {
    for (let i = 0; i < 250 && (await migrationsWaiting()) < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await migrationsWaiting()).toBe(1);

    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(503);
    const during = [
      await get('/v1/admin/ledger/balances', admin),
      await get('/v1/me/budget', bearer('not-a-credential')),
      await fetch(`${base}/v1/purchases`, {
        method: 'POST',
        headers: { ...bearer('kq_pub_unknown'), 'Content-Type': 'application/json' },
        body: JSON.stringify({ amount: '1.00', description: 'x' }),
      }),
      await get('/consent/purchases/pur_unknown'),
      await get('/me'),
    ];
    for (const res of during) {
      expect({
        status: res.status,
        code: ((await res.json()) as { error?: { code?: string } }).error?.code,
        retryAfter: res.headers.get('retry-after'),
        cacheControl: res.headers.get('cache-control'),
      }).toEqual({ status: 503, code: 'service_unavailable', retryAfter: '2', cacheControl: 'no-store' });
    }

    await locker.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    await gateway.ready;
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/v1/admin/ledger/balances', admin)).status).toBe(200);
  });

  it('When another process has applied every migration but this gateway still waits for the lock, then its /readyz is 503 like its /v1, until it has checked them', async () => {
    // The first test migrated the database; a second gateway starting now must still take the lock to check.
    await locker.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    let locked = true;
    const unlock = async () => {
      if (locked) await locker.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      locked = false;
    };
    const late = await startGateway(
      testConfig({ port: 0, databaseUrl: freshUrl, runWorkers: false, queuePrefix: unique('kq-late') }),
    );
    try {
      const address = late.server.address();
      const lateBase = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      for (let i = 0; i < 250 && (await migrationsWaiting()) < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await migrationsWaiting()).toBe(1);

      const readyz = await fetch(`${lateBase}/readyz`);
      expect(readyz.status).toBe(503);
      expect(((await readyz.json()) as { error: { details: { notReady: string[] } } }).error.details.notReady).toEqual([
        'migrations',
      ]);
      expect((await fetch(`${lateBase}/v1/admin/ledger/balances`, { headers: admin })).status).toBe(503);

      await unlock();
      await late.ready;
      expect((await fetch(`${lateBase}/readyz`)).status).toBe(200);
      expect((await fetch(`${lateBase}/v1/admin/ledger/balances`, { headers: admin })).status).toBe(200);
    } finally {
      await unlock();
      await late.close();
    }
  });
});
