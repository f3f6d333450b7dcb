import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { expirePendingPurchases, purgeIdempotencyKeys } from '../src/store/housekeeping.js';
import { startHousekeepingWorker } from '../workers/housekeeping.js';
import type { RunningWorker } from '../workers/worker.js';
import {
  bearer,
  buy,
  createPublisher,
  createPurchase,
  idemKey,
  unique,
  type PublisherFixture,
} from './support/harness.js';
import { useGateway, useOperator, useSubscriber } from './support/world.js';
import { storedPurchaseStatus } from './support/rows.js';

const DAY_MS = 24 * 3_600_000;

const gw = useGateway();
const subscriber = useSubscriber(gw, useOperator(gw));
const running: RunningWorker[] = [];

afterAll(async () => {
  await Promise.all(running.map((w) => w.close()));
});

async function startWorker(options: Parameters<typeof startHousekeepingWorker>[1]): Promise<RunningWorker> {
  const config = {
    ...gw.ctx.config,
    queuePrefix: unique('kq-security-housekeeping'),
    idempotencyKeyRetentionHours: 24,
  };
  const worker = await startHousekeepingWorker(
    { config, database: gw.ctx.database, logger: createLogger('silent') },
    {
      expireEveryMs: 200,
      purgeEveryMs: 200,
      ...options,
    },
  );
  running.push(worker);
  return worker;
}

const statusOf = (id: string) => storedPurchaseStatus(gw, id);

async function keysOf(publisher: PublisherFixture): Promise<number> {
  return gw.ctx.database.prisma.idempotencyKey.count({ where: { scope: `publisher:${publisher.id}` } });
}

describe('Pending purchases past their expiry become expired (issue 10, item 14)', () => {
  it('When the expiry worker runs after expiresAt, then pending purchases are written expired and cannot be confirmed', async () => {
    const publisher = await createPublisher(gw);
    const bystander = await createPublisher(gw);
    const pending = [await createPurchase(gw, publisher), await createPurchase(gw, publisher)];
    const { id: confirmedId } = await buy(gw, publisher, subscriber.token);
    const { id: othersId } = await createPurchase(gw, bystander);

    const worker = await startWorker({
      now: () => new Date(Date.now() + DAY_MS),
      scope: { publisherIds: [publisher.id] },
    });
    await vi.waitFor(
      async () => {
        for (const { id } of pending) expect(await statusOf(id)).toBe('expired');
      },
      { timeout: 15_000, interval: 100 },
    );
    await worker.close();

    expect(await statusOf(confirmedId)).toBe('confirmed');
    expect(await statusOf(othersId)).toBe('pending');
    const confirm = await gw.api().post(`/v1/purchases/${pending[0]?.id}/confirm`).set(bearer(subscriber.token));
    expect(confirm.status).toBe(410);
    expect(confirm.body.error.code).toBe('consent_expired');
    const read = await gw.api().get(`/v1/purchases/${pending[1]?.id}`).set(bearer(publisher.apiKey));
    expect(read.body.status).toBe('expired');
  });

  it('When the expiry sweep runs twice, or before expiry, then each purchase is expired once and never early', async () => {
    const publisher = await createPublisher(gw);
    const { id } = await createPurchase(gw, publisher);
    const scope = { publisherIds: [publisher.id] };
    expect(await expirePendingPurchases(gw.ctx.database.sql, new Date(), 100, scope)).toBe(0);
    expect(await statusOf(id)).toBe('pending');
    const later = new Date(Date.now() + DAY_MS);
    const [first, second] = await Promise.all([
      expirePendingPurchases(gw.ctx.database.sql, later, 100, scope),
      expirePendingPurchases(gw.ctx.database.sql, later, 100, scope),
    ]);
    expect(first + second).toBe(1);
    expect(await expirePendingPurchases(gw.ctx.database.sql, later, 100, scope)).toBe(0);
    expect(await statusOf(id)).toBe('expired');
  });
});

describe('Idempotency keys are kept for the stated retention, then purged (item 14)', () => {
  it('When keys are older than the retention, then the purge worker deletes them, and only them', async () => {
    const publisher = await createPublisher(gw);
    const bystander = await createPublisher(gw);
    const key = idemKey();
    const body = { amount: '1.00', currency: 'EUR', description: 'An article', channel: 'isp' };
    const first = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send(body);
    await createPurchase(gw, bystander);
    expect(await keysOf(publisher)).toBe(1);

    const scope = { idempotencyScopes: [`publisher:${publisher.id}`, `publisher:${bystander.id}`] };
    const worker = await startWorker({
      now: () => new Date(Date.now() + 25 * 3_600_000),
      scope: { idempotencyScopes: [`publisher:${publisher.id}`] },
    });
    await vi.waitFor(async () => expect(await keysOf(publisher)).toBe(0), { timeout: 15_000, interval: 100 });
    await worker.close();
    expect(await keysOf(bystander)).toBe(1);
    expect(await purgeIdempotencyKeys(gw.ctx.database.sql, new Date(Date.now() - 23 * 3_600_000), 100, scope)).toBe(0);
    expect(await keysOf(bystander)).toBe(1);

    const again = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send(body);
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(first.body.id);
  });

  it('When the retention is configured below 24 hours, then the configuration is refused', () => {
    expect(() => loadConfig({ IDEMPOTENCY_KEY_RETENTION_HOURS: '12' })).toThrow(/at least 24/);
    expect(loadConfig({ IDEMPOTENCY_KEY_RETENTION_HOURS: '48' }).idempotencyKeyRetentionHours).toBe(48);
    expect(loadConfig({}).idempotencyKeyRetentionHours).toBe(72);
  });
});
