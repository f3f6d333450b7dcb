import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.js';
import { recordEvent } from '../src/domain/events.js';
import { webhookQueue } from '../src/queue/webhooks.js';
import { startWebhookWorker, type WebhookWorkerOptions } from '../workers/webhooks.js';
import type { RunningWorker } from '../workers/worker.js';
import { assertion, bearer, buy, createPublisher, idemKey, provision, testConfig, unique } from './support/harness.js';
import { startPrivateRedis, type PrivateRedis } from './support/private-redis.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';
import { useGateway, useOperator } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q') });
const operator = useOperator(gw);
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver();
  cleanups.push(() => started.close());
  return started;
}

async function worker(config: Config, options: WebhookWorkerOptions): Promise<RunningWorker> {
  const running = await startWebhookWorker(
    { config, database: gw.ctx.database, logger: gw.ctx.logger },
    { pollEveryMs: 100, ...options },
  );
  cleanups.push(async () => {
    await running.close();
    const queue = webhookQueue(config);
    await queue.obliterate({ force: true });
    await queue.close();
  });
  return running;
}

describe('the webhook worker delivers purchase events, signed', () => {
  it('When a purchase is confirmed, then the publisher receives a signed purchase.confirmed whose data is the purchase as the API shows it', async () => {
    const hook = await receiver();
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    await worker(gw.ctx.config, { publisherIds: [publisher.id] });
    const token = assertion(operator, await provision(gw, operator));

    const { id, res } = await buy(gw, publisher, token, { amount: '2.88' });
    expect(res.status).toBe(200);
    const [delivery] = await hook.waitFor(1);
    if (!delivery) throw new Error('no delivery');

    const verified = new Webhook(publisher.webhookSecret).verify(delivery.body, {
      'webhook-id': String(delivery.headers['webhook-id']),
      'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
      'webhook-signature': String(delivery.headers['webhook-signature']),
    });
    const event = JSON.parse(delivery.body);
    expect(verified).toEqual(event);
    expect(Object.keys(event).sort()).toEqual(['createdAt', 'data', 'id', 'type']);
    expect(event.type).toBe('purchase.confirmed');
    expect(event.id).toBe(delivery.headers['webhook-id']);
    const shown = await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey));
    expect(event.data).toEqual(shown.body);
    expect(delivery.headers['content-type']).toBe('application/json');
  });

  it('When a purchase is refunded, then a purchase.refunded follows with the refund and the new status', async () => {
    const hook = await receiver();
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    await worker(gw.ctx.config, { publisherIds: [publisher.id] });
    const token = assertion(operator, await provision(gw, operator));
    const { id } = await buy(gw, publisher, token, { amount: '4.00' });
    const refund = await gw
      .api()
      .post(`/v1/purchases/${id}/refunds`)
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expect(refund.status).toBe(201);

    await expect
      .poll(() => new Set(hook.received.map((r) => r.headers['webhook-id'])).size, { timeout: 20_000 })
      .toBe(2);
    // At-least-once: a retried delivery may repeat an event; its id tells the copies apart.
    const events = [...new Map(hook.received.map((r) => [r.headers['webhook-id'], JSON.parse(r.body)])).values()];
    const refunded = events.find((e) => e.type === 'purchase.refunded');
    expect(events.map((e) => e.type).sort()).toEqual(['purchase.confirmed', 'purchase.refunded']);
    expect(refunded.data).toMatchObject({
      id,
      status: 'refunded',
      refundedAmount: '4.00',
      refund: { id: refund.body.id, amount: '4.00' },
    });
  });
});

describe('Redis is not the record', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(() => redis.stop());

  // Events stamped 50 years ahead and a worker whose clock runs there too: only
  // this worker, on this private Redis, can find them due.
  const aheadMs = 50 * 365 * 24 * 60 * 60 * 1000;
  const ahead = () => new Date(Date.now() + aheadMs);
  const record = (publisherId: string) =>
    gw.ctx.database.transaction((sql) =>
      recordEvent(sql, publisherId, 'purchase.confirmed', { id: unique('pur') }, ahead()),
    );

  it('When Redis is flushed while the worker runs and while it is down, then every event is still delivered', async () => {
    const hook = await receiver();
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    const config = testConfig({ redisUrl: redis.url, queuePrefix: unique('q') });
    const options: WebhookWorkerOptions = { publisherIds: [publisher.id], now: ahead, schedulerCheckEveryMs: 100 };
    const first = await worker(config, options);

    const before = await record(publisher.id);
    await hook.waitFor(1);
    // A marker proves the flush landed: the worker may write its own keys again the instant after it.
    await redis.client.set('flush-marker', '1');
    await redis.client.flushall();
    expect(await redis.client.exists('flush-marker')).toBe(0);
    const afterFlush = await record(publisher.id);
    await hook.waitFor(2);

    await first.close();
    const whileDown = await record(publisher.id);
    await redis.client.flushall();
    await worker(config, options);
    await hook.waitFor(3);

    const sent = new Set(hook.received.map((r) => r.headers['webhook-id']));
    expect(sent).toEqual(new Set([before, afterFlush, whileDown]));
    await expect
      .poll(
        () =>
          gw.ctx.database.prisma.outboxEvent.count({
            where: { id: { in: [before, afterFlush, whileDown] }, deliveredAt: null },
          }),
        { timeout: 10_000 },
      )
      .toBe(0);
  });
});
