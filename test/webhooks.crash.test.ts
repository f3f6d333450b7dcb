import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../src/domain/events.js';
import { DEFAULT_LEASE_MS, dispatchDueWebhooks } from '../src/domain/webhook-delivery.js';
import { TEST_REDIS_URL } from './support/env.js';
import { createPublisher, unique } from './support/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';
import { spawnWorkers, type WorkerProcess } from './support/worker-process.js';
import { useGateway } from './support/world.js';
import { outboxEventRow } from './support/rows.js';

const gw = useGateway();
let hook: WebhookReceiver;
let workers: WorkerProcess | null = null;
const queuePrefix = unique('q');

beforeAll(async () => {
  // The first request is left hanging, as a publisher's slow endpoint would be while the worker dies.
  hook = await startWebhookReceiver((_request, n, res) => {
    if (n > 0) res.end();
  });
});
afterAll(async () => {
  await workers?.kill('SIGKILL');
  await hook.close();
  const redis = new Redis(TEST_REDIS_URL);
  const keys = await redis.keys(`${queuePrefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('a worker process killed mid-send', () => {
  it('When the worker is SIGKILLed while a delivery is in flight, then the event stays due in PostgreSQL and is sent again', async () => {
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    const eventId = await gw.ctx.database.transaction((sql) =>
      recordEvent(sql, publisher.id, 'purchase.confirmed', { id: unique('pur') }),
    );
    workers = spawnWorkers({ QUEUE_PREFIX: queuePrefix });

    await hook.waitFor(1, 60_000);
    await workers.kill('SIGKILL');
    workers = null;

    const orphan = await outboxEventRow(gw, eventId);
    expect(orphan.deliveredAt).toBeNull();
    expect(orphan.failedAt).toBeNull();
    const leaseOver = new Date(Date.now() + DEFAULT_LEASE_MS);
    expect(orphan.nextAttemptAt.getTime()).toBeLessThanOrEqual(leaseOver.getTime());

    await dispatchDueWebhooks(gw.ctx.database.sql, {
      allowPrivateNetworks: true,
      now: () => leaseOver,
      publisherIds: [publisher.id],
    });

    expect(hook.received.length).toBeGreaterThanOrEqual(2);
    expect(new Set(hook.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([eventId]));
    expect((await outboxEventRow(gw, eventId)).deliveredAt).not.toBeNull();
  });
});
