import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPublisher, startTestGateway, unique, type TestGateway } from './support/harness.js';
import { startPrivateRedis, type PrivateRedis } from './support/private-redis.js';

/**
 * The limiter counts in each gateway and adds the counts to Redis in batches:
 * the limit holds across gateways (once their counts have met in Redis), and
 * still holds, per gateway, while Redis is gone.
 */
const LIMIT = 3;
let redis: PrivateRedis;
let first: TestGateway;
let second: TestGateway;
let publisherKey: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  const shared = { redisUrl: redis.url, rateLimitPerMinute: LIMIT, queuePrefix: unique('kq-rl') };
  first = startTestGateway(shared);
  second = startTestGateway(shared);
  publisherKey = (await createPublisher(first)).apiKey;
});
afterAll(async () => {
  await first.close();
  await second.close();
  await redis.stop();
});

/** The limiter counts in fixed one-minute windows; start well inside one so a test's requests share it. */
async function freshWindow(): Promise<void> {
  const intoMinuteMs = Date.now() % 60_000;
  if (intoMinuteMs > 45_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinuteMs));
}

const ask = (gw: TestGateway, key: string) =>
  gw.api().get('/v1/purchases/pur_none').set('Authorization', `Bearer ${key}`);

describe('Rate limits across gateways, in batches', () => {
  it('When a credential used its limit on one gateway, then the other refuses it once their counts met in Redis', async () => {
    await freshWindow();
    const key = `${publisherKey}`;
    for (let i = 0; i < LIMIT; i++) expect((await ask(first, key)).status).toBe(404);
    // The first gateway's batch reaches Redis: the credential's shared count is the limit.
    await vi.waitFor(async () => {
      const counts = await Promise.all((await redis.client.keys('*:rl:*')).map((k) => redis.client.get(k)));
      expect(counts.map(Number)).toContain(LIMIT);
    });
    // The second learns it in its own next batch: at most the requests of one batch interval get through meanwhile.
    await vi.waitFor(async () => expect((await ask(second, key)).status).toBe(429), { timeout: 5_000, interval: 50 });
  });

  it('When Redis is killed, then requests are still answered and each gateway still limits on its own counts', async () => {
    await freshWindow();
    await redis.stop();
    await expect(redis.client.ping()).rejects.toThrow();
    const other = (await createPublisher(first)).apiKey;
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await ask(first, other)).status);
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(404), 429]);
  });
});
