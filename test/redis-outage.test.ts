import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  provision,
  startTestGateway,
  type TestGateway,
} from './support/harness.js';
import { freePort } from './support/private-redis.js';

/** Redis is a cache for the gateway: with Redis gone, purchases still go through PostgreSQL. */
let gw: TestGateway;

beforeAll(async () => {
  // A port nobody listens on: every Redis call fails at once.
  gw = startTestGateway({ redisUrl: `redis://127.0.0.1:${await freePort()}`, rateLimitPerMinute: 1000 });
});
afterAll(() => gw.close());

describe('When Redis is unreachable', () => {
  it('When a purchase is created and confirmed, then the gateway answers instead of waiting for Redis', async () => {
    const operator = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const token = assertion(operator, await provision(gw, operator));
    const { res } = await buy(gw, publisher, token, { amount: '2.00' });
    expect(res.status).toBe(200);
    const budget = await gw.api().get('/v1/me/budget').set(bearer(token));
    expect(budget.body.weekly.spent).toBe('2.00');
  }, 20_000);
});
