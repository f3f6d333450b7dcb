import pg from 'pg';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.js';
import { closeAppContext, createAppContext } from '../src/http/context.js';
import { createLogger } from '../src/logger.js';
import { DEFAULT_DB_TIMEOUTS, type DbTimeouts } from '../src/store/db-timeouts.js';
import { TEST_DATABASE_URL } from './support/env.js';
import {
  admin,
  assertion,
  bearer,
  createOperator,
  createPublisher,
  createPurchase,
  idemKey,
  provision,
  testConfig,
} from './support/harness.js';
import { freePort } from './support/private-redis.js';
import { useGateway } from './support/world.js';
import { storedPurchaseStatus } from './support/rows.js';

const gw = useGateway();
let locker: pg.Client;
let lockerPid: number;

beforeAll(async () => {
  locker = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await locker.connect();
  lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
});
afterAll(() => locker.end());

/** A gateway of its own, for a database URL or limits other than the shared test gateway's. */
function gatewayWith(
  overrides: Parameters<typeof testConfig>[0],
  poolSize: number,
  timeoutOverrides: Partial<DbTimeouts> = {},
) {
  const config = testConfig({
    ...overrides,
    databaseTimeouts: { ...DEFAULT_DB_TIMEOUTS, poolWaitMs: 3_000, ...timeoutOverrides },
  });
  const ctx = createAppContext(config, poolSize, createLogger('silent'));
  return { ctx, api: () => supertest(createApp(ctx)), close: () => closeAppContext(ctx) };
}

/** Holds the subscriber's row lock from another session, as a long transaction elsewhere would. */
async function holdSubscriberLock(externalRef: string): Promise<() => Promise<void>> {
  await locker.query('BEGIN');
  await locker.query('SELECT 1 FROM subscribers WHERE external_ref = $1 FOR UPDATE', [externalRef]);
  return async () => {
    await locker.query('ROLLBACK');
  };
}

/** Backends waiting on the lock `locker` holds: other files share the database and may wait on locks of their own. */
async function backendsWaitingOnLocks(): Promise<number> {
  const rows = await gw.ctx.database.pool.query<{ waiting: number }>(
    `SELECT count(*)::int AS waiting FROM pg_stat_activity
      WHERE pg_backend_pid() <> pid AND $1::int = ANY (pg_blocking_pids(pid))`,
    [lockerPid],
  );
  return rows.rows[0]?.waiting ?? 0;
}

/** Every 503, whatever its source, tells clients when to retry and caches to keep nothing. */
const expect503 = (res: supertest.Response) => {
  expect({
    status: res.status,
    code: res.body.error?.code,
    retryAfter: res.headers['retry-after'],
    cacheControl: res.headers['cache-control'],
  }).toEqual({
    status: 503,
    code: 'service_unavailable',
    retryAfter: '2',
    cacheControl: 'no-store',
  });
};

describe('When PostgreSQL is unreachable', () => {
  it('When publishers, subscribers and admins call the API, then each gets 503 service_unavailable with Retry-After, never a 500', async () => {
    const down = gatewayWith({ databaseUrl: `postgresql://postgres@127.0.0.1:${await freePort()}/kiosque` }, 2);
    try {
      const answers = await Promise.all([
        down.api().post('/v1/admin/operators').set(admin).send({ name: 'Op', brand: 'Op' }),
        down.api().post('/v1/purchases').set(bearer('kq_pub_unknown')).set('Idempotency-Key', idemKey()).send({}),
        down
          .api()
          .get('/v1/me/budget')
          .set(bearer(assertion({ id: 'op_unknown', assertionSecret: 'secret' }, 'sub-1'))),
      ]);
      for (const res of answers) expect503(res);
    } finally {
      await down.close();
    }
  });
});

describe('When PostgreSQL is slow (a lock held elsewhere)', () => {
  it('When a confirmation waits on a locked subscriber row, then it is answered 503 after the lock timeout and nothing is confirmed', async () => {
    const operator = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const ref = await provision(gw, operator);
    const { id } = await createPurchase(gw, publisher);
    const release = await holdSubscriberLock(ref);
    try {
      const res = await gw
        .api()
        .post(`/v1/purchases/${id}/confirm`)
        .set(bearer(assertion(operator, ref)));
      expect503(res);
    } finally {
      await release();
    }
    expect(await storedPurchaseStatus(gw, id)).toBe('pending');
    const retried = await gw
      .api()
      .post(`/v1/purchases/${id}/confirm`)
      .set(bearer(assertion(operator, ref)));
    expect(retried.status).toBe(200);
  });

  it('When the request deadline passes before the database answers, then the client gets 503 at the deadline and the late failure is dropped', async () => {
    const operator = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const ref = await provision(gw, operator);
    const { id } = await createPurchase(gw, publisher);
    const quick = gatewayWith({ requestDeadlineMs: 300 }, 2);
    const release = await holdSubscriberLock(ref);
    try {
      const res = await quick
        .api()
        .post(`/v1/purchases/${id}/confirm`)
        .set(bearer(assertion(operator, ref)));
      expect503(res);
      expect(res.body.error.message).toMatch(/ran out of time/);
      // The handler's own 503 (lock timeout) comes after the answer and must not crash or answer twice.
      await new Promise((r) => setTimeout(r, DEFAULT_DB_TIMEOUTS.lockMs + 300));
    } finally {
      await release();
      await quick.close();
    }
    expect(await storedPurchaseStatus(gw, id)).toBe('pending');
  });

  it('When the pool’s wait queue is full, then further requests are shed with 503 at once, and served again once it drains', async () => {
    const operator = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const refs = [await provision(gw, operator), await provision(gw, operator)];
    const purchases = [await createPurchase(gw, publisher), await createPurchase(gw, publisher)];
    // The blocked confirmation must stay blocked while the test queues one request and sends one more: a lock
    // timeout of 5 s leaves room on a loaded machine, and the queued request may wait longer than that.
    const small = gatewayWith({ maxPoolWaiting: 1 }, 1, {
      lockMs: 5_000,
      statementMs: 10_000,
      queryMs: 12_000,
      poolWaitMs: 8_000,
    });
    const release = await holdSubscriberLock(refs[0] as string);
    try {
      // The one connection waits on the lock; the next request waits for that connection.
      const blocked = small
        .api()
        .post(`/v1/purchases/${purchases[0]?.id}/confirm`)
        .set(bearer(assertion(operator, refs[0] as string)));
      const blockedAnswer = blocked.then((r) => r);
      // Only once the confirmation waits on the lock does it hold the one connection; sent earlier, the next
      // request could take the connection first and be served, leaving nothing queued.
      for (let i = 0; i < 200 && (await backendsWaitingOnLocks()) < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await backendsWaitingOnLocks()).toBe(1);
      const queued = small
        .api()
        .get('/v1/me/budget')
        .set(bearer(assertion(operator, refs[1] as string)))
        .then((r) => r);
      // Both pools count: Prisma's and the hot path's, where credentials and confirmations go.
      const waiting = () => small.ctx.database.pool.waitingCount;
      for (let i = 0; i < 100 && waiting() < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(waiting()).toBe(1);
      const shed = await small
        .api()
        .post(`/v1/purchases/${purchases[1]?.id}/confirm`)
        .set(bearer(assertion(operator, refs[1] as string)));
      expect503(shed);
      expect(shed.body.error.message).toMatch(/overloaded/);
      expect503(await blockedAnswer);
      expect((await queued).status).toBe(200);
    } finally {
      await release();
    }
    try {
      const served = await small
        .api()
        .post(`/v1/purchases/${purchases[1]?.id}/confirm`)
        .set(bearer(assertion(operator, refs[1] as string)));
      expect(served.status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('When as many requests are in flight as the gateway allows, then one more is refused with 503 rather than queued', async () => {
    const none = gatewayWith({ maxInFlight: 0 }, 1);
    try {
      expect503(await none.api().get('/v1/me/budget').set(bearer('x')));
    } finally {
      await none.close();
    }
  });
});
