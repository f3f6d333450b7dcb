import { Redis } from 'ioredis';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Connection } from '../src/store/database.js';
import { TEST_ADMIN_API_KEY, TEST_DATABASE_URL } from './support/env.js';
import { spawnGateway, type GatewayProcess } from './support/gateway-process.js';
import { freePort } from './support/private-redis.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';
import { spawnWorkers, type WorkerProcess } from './support/worker-process.js';
import { assertion, bearer, idemKey, unique } from './support/harness.js';

/**
 * SCALING.md's shape, small: two gateways and two worker processes against one
 * PostgreSQL and a three-master Redis Cluster this test starts itself.
 */
const prefix = unique('kq-scale');
const admin = { Authorization: `Bearer ${TEST_ADMIN_API_KEY}` };
let cluster: RedisCluster;
const gateways: GatewayProcess[] = [];
let workers: WorkerProcess[] = [];
let receiver: WebhookReceiver;
let database: Connection;
let db: Connection['prisma'];

beforeAll(async () => {
  cluster = await startRedisCluster();
  const env = {
    // Nothing listens there: with REDIS_CLUSTER_NODES, only the cluster may be used.
    REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    REDIS_CLUSTER_NODES: cluster.nodes.join(','),
    QUEUE_PREFIX: prefix,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
    // A renewal sweep every few seconds, so the renewal below does not wait for the default one-minute tick.
    RENEWAL_SWEEP_INTERVAL_MS: '3000',
  };
  workers = [spawnWorkers(env), spawnWorkers(env)];
  for (let i = 0; i < 2; i++) gateways.push(await spawnGateway(env, 180_000));
  await Promise.all(workers.map((w) => w.waitForLog(/Kiosque workers started/, 120_000)));
  receiver = await startWebhookReceiver();
  database = openDatabase(TEST_DATABASE_URL, 2);
  db = database.prisma;
}, 300_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  await Promise.all(gateways.map((g) => g.stop()));
  await receiver?.close();
  await database?.close();
  cluster?.stop();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Every key of every node, with the slot it hashes to. */
async function keysBySlot(match: string): Promise<Map<number, string[]>> {
  const slots = new Map<number, string[]>();
  for (const node of cluster.nodes) {
    const [host, port] = node.split(':');
    const client = new Redis({ host, port: Number(port) });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
          slots.set(slot, [...(slots.get(slot) ?? []), key]);
        }
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
  }
  return slots;
}

describe('two gateways and two workers on a three-node Redis Cluster', () => {
  it('When purchases, a subscription, its renewal, webhooks and a billing run go through both gateways, then all complete and every queue key sits in one hash slot', async () => {
    const api = (i: number) => supertest(gateways[i % 2]!.url);
    const op = await api(0)
      .post('/v1/admin/operators')
      .set(admin)
      .send({ name: unique('Op'), brand: 'Fibre' });
    expect(op.status).toBe(201);
    const operator = {
      id: op.body.id as string,
      apiKey: op.body.apiKey as string,
      assertionSecret: op.body.assertionSecret as string,
    };
    const pub = await api(1)
      .post('/v1/admin/publishers')
      .set(admin)
      .send({ name: unique('Pub'), category: 'press', webhookUrl: receiver.url });
    expect(pub.status).toBe(201);
    const ref = unique('sub');
    expect((await api(0).put(`/v1/operator/subscribers/${ref}`).set(bearer(operator.apiKey)).send({})).status).toBe(
      201,
    );
    const token = assertion(operator, ref);

    // Each purchase is created on one gateway and confirmed on the other.
    const purchaseIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await api(i)
        .post('/v1/purchases')
        .set(bearer(pub.body.apiKey))
        .set('Idempotency-Key', idemKey())
        .send({ amount: '1.50', currency: 'EUR', description: `Article ${i}`, channel: 'isp' });
      expect(created.status).toBe(201);
      expect(
        (
          await api(i + 1)
            .post(`/v1/purchases/${created.body.id}/confirm`)
            .set(bearer(token))
        ).status,
      ).toBe(200);
      purchaseIds.push(created.body.id);
    }

    const offered = await api(0)
      .post('/v1/subscriptions')
      .set(bearer(pub.body.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ plan: 'weekly', amount: '2.00', description: 'Weekly digest', channel: 'isp' });
    expect(offered.status).toBe(201);
    const confirmed = await api(1).post(`/v1/subscriptions/${offered.body.id}/confirm`).set(bearer(token));
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('active');

    // The webhook workers deliver a purchase.confirmed for each purchase.
    await until(
      'purchase webhooks',
      () => {
        const ids = new Set(
          receiver.received
            .map((r) => JSON.parse(r.body) as { type: string; data: { id: string } })
            .filter((e) => e.type === 'purchase.confirmed')
            .map((e) => e.data.id),
        );
        return Promise.resolve(purchaseIds.every((id) => ids.has(id)) ? true : undefined);
      },
      60_000,
    );

    // The period ends now: the renewal workers' next sweep charges the second period.
    // Not "now() - 1 second": the webhooks may arrive within a second of the activation, and a period cannot
    // end before the subscription began (the renewal would then charge the first period again and be refused).
    await db.$executeRaw`UPDATE subscriptions SET current_period_end = now(), next_attempt_at = now()
      WHERE id = ${offered.body.id}`;
    const renewals = await until(
      'the renewal',
      async () => {
        const count = await db.purchase.count({ where: { subscriptionId: offered.body.id, status: 'confirmed' } });
        return count >= 2 ? count : undefined;
      },
      150_000,
    );
    expect(renewals).toBe(2);

    const posted = await api(1)
      .post('/v1/operator/billing-runs')
      .set(bearer(operator.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expect(posted.status).toBe(202);
    const run = await until(
      'the billing run',
      async () => {
        const res = await api(0).get(`/v1/operator/billing-runs/${posted.body.id}`).set(bearer(operator.apiKey));
        return res.body.status === 'done' || res.body.status === 'failed' ? res.body : undefined;
      },
      60_000,
    );
    expect(run).toMatchObject({ status: 'done', invoiceCount: 1, total: '10.00' });

    const slots = await keysBySlot(`{${prefix}}:*`);
    expect(slots.size).toBe(1);
    const keys = [...slots.values()][0]!;
    for (const queue of ['billing-runs', 'webhooks', 'renewals', 'dispute-deadlines']) {
      expect(keys.some((k) => k.startsWith(`{${prefix}}:${queue}:`))).toBe(true);
    }
  }, 400_000);
});
