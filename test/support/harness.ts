import type { Express } from 'express';
import jwt from 'jsonwebtoken';
import supertest from 'supertest';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { closeAppContext, createAppContext, type AppContext } from '../../src/http/context.js';
import { createLogger } from '../../src/logger.js';
import { newId } from '../../src/ids.js';
import { TEST_ADMIN_API_KEY, TEST_DATABASE_URL, TEST_REDIS_URL } from './env.js';

export interface TestGateway {
  ctx: AppContext;
  app: Express;
  api: () => supertest.Agent;
  close(): Promise<void>;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      ADMIN_API_KEY: TEST_ADMIN_API_KEY,
      PUBLIC_URL: 'http://kiosque.test',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
      RATE_LIMIT_PER_MINUTE: '0',
      AUTH_FAILURES_PER_MINUTE: '0',
    }),
    ...overrides,
  };
}

/** The real app over the real test database and Redis, in this process. */
export function startTestGateway(overrides: Partial<Config> = {}): TestGateway {
  const config = testConfig(overrides);
  // Small pools: many test files and spawned gateways share one PostgreSQL.
  const ctx = createAppContext(config, 5, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  const app = createApp(ctx);
  return {
    ctx,
    app,
    api: () => supertest.agent(app),
    close: () => closeAppContext(ctx),
  };
}

export const admin = { Authorization: `Bearer ${TEST_ADMIN_API_KEY}` };
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let counter = 0;
/** Unique per call and per test process, so parallel test files never collide. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export interface OperatorFixture {
  id: string;
  apiKey: string;
  assertionSecret: string;
  brand: string;
}

export interface PublisherFixture {
  id: string;
  apiKey: string;
  webhookSecret: string;
}

export async function createOperator(gw: TestGateway, body: Record<string, unknown> = {}): Promise<OperatorFixture> {
  const brand = unique('Brand');
  const res = await gw
    .api()
    .post('/v1/admin/operators')
    .set(admin)
    .send({ name: unique('Operator'), brand, ...body });
  if (res.status !== 201) throw new Error(`operator creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, apiKey: res.body.apiKey, assertionSecret: res.body.assertionSecret, brand: res.body.brand };
}

export async function createPublisher(gw: TestGateway, body: Record<string, unknown> = {}): Promise<PublisherFixture> {
  const res = await gw
    .api()
    .post('/v1/admin/publishers')
    .set(admin)
    .send({ name: unique('Publisher'), category: 'press', ...body });
  if (res.status !== 201) throw new Error(`publisher creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, apiKey: res.body.apiKey, webhookSecret: res.body.webhookSecret };
}

export async function provision(
  gw: TestGateway,
  operator: OperatorFixture,
  externalRef: string = unique('sub'),
  body: Record<string, unknown> = {},
): Promise<string> {
  const res = await gw.api().put(`/v1/operator/subscribers/${externalRef}`).set(bearer(operator.apiKey)).send(body);
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`provisioning failed: ${res.status} ${JSON.stringify(res.body)}`);
  return externalRef;
}

/** A newly provisioned subscriber's row, for tests that call the domain or the store with its id. */
export async function provisionedSubscriber(gw: TestGateway, operator: OperatorFixture) {
  const externalRef = await provision(gw, operator);
  return gw.ctx.database.prisma.subscriber.findFirstOrThrow({ where: { operatorId: operator.id, externalRef } });
}

/** An assertion as an operator's portal would mint it. */
export function assertion(
  operator: Pick<OperatorFixture, 'id' | 'assertionSecret'>,
  externalRef: string,
  options: jwt.SignOptions = {},
): string {
  return jwt.sign({}, operator.assertionSecret, {
    algorithm: 'HS256',
    issuer: operator.id,
    subject: externalRef,
    audience: 'kiosque',
    expiresIn: 300,
    ...options,
  });
}

let keyCounter = 0;
export const idemKey = () => `key-${process.pid}-${Date.now()}-${++keyCounter}`;

export async function createPurchase(
  gw: TestGateway,
  publisher: PublisherFixture,
  body: Record<string, unknown> = {},
): Promise<{ id: string; consentUrl: string }> {
  const res = await gw
    .api()
    .post('/v1/purchases')
    .set(bearer(publisher.apiKey))
    .set('Idempotency-Key', idemKey())
    .send({ amount: '2.00', currency: 'EUR', description: 'An article', channel: 'isp', ...body });
  if (res.status !== 201) throw new Error(`purchase creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, consentUrl: res.body.consentUrl };
}

/** A pending subscription offer, weekly at 1.00 unless `body` says otherwise. */
export async function createSubscriptionOffer(
  gw: TestGateway,
  publisher: PublisherFixture,
  body: Record<string, unknown> = {},
): Promise<{ id: string; consentUrl: string }> {
  const res = await gw
    .api()
    .post('/v1/subscriptions')
    .set(bearer(publisher.apiKey))
    .set('Idempotency-Key', idemKey())
    .send({ plan: 'weekly', amount: '1.00', description: 'A weekly offer', channel: 'isp', ...body });
  if (res.status !== 201) throw new Error(`offer creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, consentUrl: res.body.consentUrl };
}

/** One purchase created and confirmed by `token`'s subscriber; returns the confirm response. */
export async function buy(
  gw: TestGateway,
  publisher: PublisherFixture,
  token: string,
  body: Record<string, unknown> = {},
) {
  const { id } = await createPurchase(gw, publisher, body);
  const res = await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(token));
  return { id, res };
}

/**
 * Pending purchases written straight to the table, for tests where creation is
 * not under test and confirmation is: many at once, without an HTTP round trip each.
 */
export async function insertPendingPurchases(
  gw: TestGateway,
  publisherId: string,
  count: number,
  amount: string,
): Promise<string[]> {
  const now = Date.now();
  const rows = Array.from({ length: count }, (_, i) => ({
    id: newId('pur', now + i),
    publisherId,
    kind: 'article',
    amount,
    currency: 'EUR',
    description: `bulk ${i}`,
    channel: 'isp',
    status: 'pending',
    expiresAt: new Date(now + 10 * 60 * 1000),
  }));
  await gw.ctx.database.prisma.purchase.createMany({ data: rows });
  return rows.map((r) => r.id);
}
