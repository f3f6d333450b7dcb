import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type supertest from 'supertest';
import {
  admin,
  assertion,
  bearer,
  createPurchase,
  idemKey,
  startTestGateway,
  unique,
  type TestGateway,
} from './support/harness.js';
import { freePort } from './support/private-redis.js';
import { storedPurchaseStatus } from './support/rows.js';
import { useGateway, useOperator, usePublisher, useSubscriber } from './support/world.js';

const FAILURE_LIMIT = 20;

/** Addresses from TEST-NET-3, one per use; each gateway's Redis prefix is new in each run, so no earlier count interferes. */
let addressCounter = 0;
const newAddress = () => `203.0.113.${++addressCounter}`;
const guess = () => `kq_pub_${unique('guess').replace(/[^A-Za-z0-9]/g, '')}`;

const throttled = { authFailuresPerMinute: FAILURE_LIMIT, trustProxy: true, rateLimitPerMinute: 6000 };
const reachable = useGateway({ ...throttled, queuePrefix: unique('kq-security-authfail') });
const operator = useOperator(reachable);
const publisher = usePublisher(reachable);
const subscriber = useSubscriber(reachable, operator);

let unreachable: TestGateway;
beforeAll(async () => {
  // A port nobody listens on: Redis is really unreachable, not mocked.
  // The general limiter is off there: test/rate-limit.test.ts covers it without Redis.
  unreachable = startTestGateway({
    ...throttled,
    rateLimitPerMinute: 0,
    queuePrefix: unique('kq-security-authfail'),
    redisUrl: `redis://127.0.0.1:${await freePort()}`,
  });
});
afterAll(() => unreachable.close());

async function failures(
  gw: TestGateway,
  from: string,
  count: number,
  credential: () => string = guess,
): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await gw.api().get('/v1/webhooks/events').set('X-Forwarded-For', from).set(bearer(credential()));
    statuses.push(res.status);
  }
  return statuses;
}

for (const [situation, gateway] of [
  ['Redis is reachable', () => reachable],
  ['Redis is unreachable (closed port)', () => unreachable],
] as const) {
  describe(`Failed authentications are throttled hard when ${situation}`, () => {
    it('When one address fails 20 times in a minute, then its next bad attempts are 429 rate_limited', async () => {
      const gw = gateway();
      const attacker = newAddress();
      expect(await failures(gw, attacker, FAILURE_LIMIT)).toEqual(Array(FAILURE_LIMIT).fill(401));
      const blocked = await gw.api().get('/v1/webhooks/events').set('X-Forwarded-For', attacker).set(bearer(guess()));
      expect(blocked.status).toBe(429);
      expect(blocked.body.error.code).toBe('rate_limited');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('When one address failed 50 times, then valid admin, publisher and subscriber credentials and consent pages from it are still served', async () => {
      const gw = gateway();
      const shared = newAddress();
      const statuses = await failures(gw, shared, 50);
      expect(statuses.slice(0, FAILURE_LIMIT)).toEqual(Array(FAILURE_LIMIT).fill(401));
      expect(statuses.slice(FAILURE_LIMIT)).toEqual(Array(50 - FAILURE_LIMIT).fill(429));
      const from = (request: supertest.Test) => request.set('X-Forwarded-For', shared);
      expect((await from(gw.api().get('/v1/admin/ledger/balances').set(admin))).status).toBe(200);
      expect((await from(gw.api().get('/v1/webhooks/events').set(bearer(publisher.apiKey)))).status).toBe(200);
      expect((await from(gw.api().get('/v1/me/budget').set(bearer(subscriber.token)))).status).toBe(200);
      const { consentUrl } = await createPurchase(gw, publisher);
      const page = await from(gw.api().get(`${new URL(consentUrl).pathname}?assertion=${subscriber.token}`));
      expect(page.status).toBe(303);
      // The bad ones from that address are still refused.
      expect((await failures(gw, shared, 1))[0]).toBe(429);
    });

    it('When the same bad credential fails 20 times from many addresses, then it is 429 from any address', async () => {
      const gw = gateway();
      const stolen = guess();
      const statuses: number[] = [];
      for (let i = 0; i < FAILURE_LIMIT; i++)
        statuses.push(...(await failures(gw, `198.51.100.${i + 1}`, 1, () => stolen)));
      expect(statuses).toEqual(Array(FAILURE_LIMIT).fill(401));
      expect((await failures(gw, newAddress(), 1, () => stolen))[0]).toBe(429);
    });

    it('When good credentials are used far beyond the failure limit, then every request is served', async () => {
      const gw = gateway();
      const honest = newAddress();
      const statuses = new Set<number>();
      for (let i = 0; i < FAILURE_LIMIT + 5; i++) {
        statuses.add(
          (await gw.api().get('/v1/me/budget').set('X-Forwarded-For', honest).set(bearer(subscriber.token))).status,
        );
        statuses.add(
          (await gw.api().get('/v1/webhooks/events').set('X-Forwarded-For', honest).set(bearer(publisher.apiKey)))
            .status,
        );
      }
      expect([...statuses]).toEqual([200]);
    });
  });
}

describe('No Redis round trip on a served request', () => {
  it('When a valid credential is served, then its request sends Redis nothing (the limiter counts in batches), and a throttled credential is still refused', async () => {
    const mget = vi.spyOn(reachable.ctx.redis, 'mget');
    const multi = vi.spyOn(reachable.ctx.redis, 'multi');
    const pipeline = vi.spyOn(reachable.ctx.redis, 'pipeline');
    try {
      const served = await reachable
        .api()
        .get('/v1/me/budget')
        .set('X-Forwarded-For', newAddress())
        .set(bearer(subscriber.token));
      expect(served.status).toBe(200);
      expect(multi).not.toHaveBeenCalled();
      expect(mget).not.toHaveBeenCalled();
      // The counts reach Redis afterwards, in the limiter's next batch.
      await vi.waitFor(() => expect(pipeline).toHaveBeenCalled());
      const stolen = guess();
      for (let i = 0; i < FAILURE_LIMIT; i++) await failures(reachable, newAddress(), 1, () => stolen);
      expect((await failures(reachable, newAddress(), 1, () => stolen))[0]).toBe(429);
    } finally {
      mget.mockRestore();
      multi.mockRestore();
      pipeline.mockRestore();
    }
  });
});

describe('Forged assertions on consent pages count as failed authentications', () => {
  it('When one address brings 20 forged assertions to a consent page, then the next one is 429 rate_limited', async () => {
    const { consentUrl } = await createPurchase(reachable, publisher);
    const path = new URL(consentUrl).pathname;
    const forged = () => assertion({ id: operator.id, assertionSecret: 'not-the-operator-secret' }, unique('sub'));
    const attacker = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i <= FAILURE_LIMIT; i++) {
      statuses.push(
        (await reachable.api().get(`${path}?assertion=${forged()}`).set('X-Forwarded-For', attacker)).status,
      );
    }
    expect(statuses).toEqual([...Array(FAILURE_LIMIT).fill(401), 429]);
    const valid = await reachable.api().get(`${path}?assertion=${subscriber.token}`).set('X-Forwarded-For', attacker);
    expect(valid.status).toBe(303);
  });
});

describe('A confirmation finds its subscriber in its own read: an assertion naming nobody is refused as before', () => {
  it('When valid assertions name refs the operator never provisioned, then each confirmation is 401, keyed or not, counted, then 429, and the purchase stays pending', async () => {
    const { id } = await createPurchase(reachable, publisher);
    const attacker = newAddress();
    const statuses: number[] = [];
    const codes = new Set<string>();
    for (let i = 0; i <= FAILURE_LIMIT; i++) {
      const request = reachable
        .api()
        .post(`/v1/purchases/${id}/confirm`)
        .set('X-Forwarded-For', attacker)
        .set(bearer(assertion(operator, unique('never-provisioned'))));
      // Every other one carries a key: that path finds the subscriber before claiming the key.
      const res = await (i % 2 === 0 ? request : request.set('Idempotency-Key', idemKey()));
      statuses.push(res.status);
      codes.add(res.body.error.code);
    }
    expect(statuses).toEqual([...Array(FAILURE_LIMIT).fill(401), 429]);
    expect([...codes].sort()).toEqual(['rate_limited', 'unauthorized']);
    expect(await storedPurchaseStatus(reachable, id)).toBe('pending');
    // The subscriber who is provisioned still confirms from that address.
    const valid = await reachable
      .api()
      .post(`/v1/purchases/${id}/confirm`)
      .set('X-Forwarded-For', attacker)
      .set(bearer(subscriber.token));
    expect(valid.status).toBe(200);
  });

  it("When a publisher's key or a forged assertion confirms, then it is 403 and 401 as on any subscriber endpoint", async () => {
    const { id } = await createPurchase(reachable, publisher);
    const confirm = (credential: string) =>
      reachable.api().post(`/v1/purchases/${id}/confirm`).set('X-Forwarded-For', newAddress()).set(bearer(credential));
    const byPublisher = await confirm(publisher.apiKey);
    expect(byPublisher.status).toBe(403);
    expect(byPublisher.body.error.code).toBe('forbidden');
    const forged = await confirm(assertion({ id: operator.id, assertionSecret: 'not-the-operator-secret' }, 'x'));
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('unauthorized');
    expect(await storedPurchaseStatus(reachable, id)).toBe('pending');
  });
});
