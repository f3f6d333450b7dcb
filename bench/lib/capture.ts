import pg from 'pg';
import supertest from 'supertest';
import type { Config } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import type { AppContext } from '../../src/http/context.js';
import { createLogger } from '../../src/logger.js';
import { databaseOn } from '../../src/store/database.js';
import { createRedis } from '../../src/store/redis.js';
import type { AssertionCache, BenchWorld } from './fixtures.js';

export interface CapturedQuery {
  text: string;
  values: unknown[];
}

export interface CapturedPurchase {
  create: CapturedQuery[];
  confirm: CapturedQuery[];
  purchaseId: string;
  idempotencyKey: string;
}

type QueryArg = string | { text: string; values?: unknown[] };

/**
 * Runs one create + confirm through the real app and records every statement
 * it sends to PostgreSQL, BEGIN and COMMIT included, with their parameters: the
 * pgbench ceiling then runs exactly what the code runs, whatever it becomes.
 */
export async function capturePurchaseSql(
  config: Config,
  world: BenchWorld,
  tokens: AssertionCache,
  subscriber: number,
): Promise<CapturedPurchase> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  // An idle client dropped by the server (a restart, another session's terminate) must not crash the run.
  pool.on('error', () => undefined);
  let sink: CapturedQuery[] | null = null;
  pool.on('connect', (client) => {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    const wrapped = (...args: unknown[]) => {
      const first = args[0] as QueryArg;
      if (sink) {
        const text = typeof first === 'string' ? first : first.text;
        const values = typeof first === 'string' ? ((args[1] as unknown[] | undefined) ?? []) : (first.values ?? []);
        sink.push({ text, values: [...values] });
      }
      return original(...args);
    };
    client.query = wrapped as typeof client.query;
  });
  const database = databaseOn(pool);
  const redis = createRedis(config.redisUrl);
  // Prisma and node-postgres share the process's one pool, wrapped here, so every statement is captured.
  const ctx: AppContext = {
    config: { ...config, rateLimitPerMinute: 0 },
    database,
    redis,
    logger: createLogger('silent'),
  };
  const app = createApp(ctx);
  const publisherAuth = `Bearer ${world.publisher.apiKey}`;
  const body = { amount: '0.01', currency: 'EUR', description: 'Benchmark article', channel: 'isp' };

  const buy = async (key: string, record: { create: CapturedQuery[]; confirm: CapturedQuery[] } | null) => {
    sink = record?.create ?? null;
    const created = await supertest(app)
      .post('/v1/purchases')
      .set('Authorization', publisherAuth)
      .set('Idempotency-Key', key)
      .send(body);
    if (created.status !== 201) throw new Error(`capture: create answered ${created.status} ${created.text}`);
    const { id } = created.body as { id: string };
    sink = record?.confirm ?? null;
    const confirmed = await supertest(app)
      .post(`/v1/purchases/${id}/confirm`)
      .set('Authorization', `Bearer ${tokens.forSubscriber(subscriber)}`);
    sink = null;
    if (confirmed.status !== 200) throw new Error(`capture: confirm answered ${confirmed.status} ${confirmed.text}`);
    return id;
  };

  try {
    // The first purchase warms Prisma up (connection setup, type lookups), which a steady gateway never repeats.
    await buy(`capture-warmup-${Date.now()}`, null);
    const record = { create: [] as CapturedQuery[], confirm: [] as CapturedQuery[] };
    const idempotencyKey = `capture-${Date.now()}`;
    const purchaseId = await buy(idempotencyKey, record);
    return { ...record, purchaseId, idempotencyKey };
  } finally {
    redis.disconnect();
    await database.close();
  }
}
