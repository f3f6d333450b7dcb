import { describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.js';
import { closeAppContext, createAppContext } from '../src/http/context.js';
import { createLogger } from '../src/logger.js';
import { createRedis } from '../src/store/redis.js';
import supertest from 'supertest';
import { freePort } from './support/private-redis.js';
import {
  admin,
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  createPurchase,
  createSubscriptionOffer,
  provision,
  testConfig,
  unique,
} from './support/harness.js';
import { useGateway } from './support/world.js';
import { expirePurchase } from './support/rows.js';

const gw = useGateway();

/** A gateway whose PostgreSQL and Redis are closed ports: nothing listens there. */
async function gatewayWithNothingBehind() {
  const [pgPort, redisPort] = [await freePort(), await freePort()];
  const config = testConfig({
    databaseUrl: `postgresql://postgres@127.0.0.1:${pgPort}/kiosque`,
    redisUrl: `redis://127.0.0.1:${redisPort}`,
  });
  const redis = createRedis(config.redisUrl);
  redis.on('error', () => undefined);
  const ctx = createAppContext(config, 1, createLogger('silent'), redis);
  return { api: () => supertest(createApp(ctx)), close: () => closeAppContext(ctx) };
}

function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('health and readiness', () => {
  it('When PostgreSQL and Redis are both unreachable, then /healthz is 200 and /readyz is 503 naming both', async () => {
    const broken = await gatewayWithNothingBehind();
    try {
      const health = await broken.api().get('/healthz');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: 'ok' });
      const ready = await broken.api().get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.headers['retry-after']).toBeDefined();
      expect(ready.headers['cache-control']).toBe('no-store');
      expect(ready.body.error.code).toBe('service_unavailable');
      expect(ready.body.error.details.notReady).toEqual(['postgresql', 'redis', 'migrations']);
      expect(ready.body.error.details.checks.postgresql).toMatch(/unreachable/);
      expect(ready.body.error.message).toBe('Not ready: postgresql, redis, migrations');
    } finally {
      await broken.close();
    }
  });

  it('When PostgreSQL, Redis and every migration are there, then /readyz is 200 with each check ok', async () => {
    const res = await gw.api().get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: { postgresql: 'ok', redis: 'ok', migrations: 'ok' } });
  });
});

describe('request ids', () => {
  it('When a request fails, then its error body keeps the API.md shape and adds the Request-Id it was answered with', async () => {
    const res = await gw.api().get('/v1/purchases/pur_nope').set(admin);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message', 'requestId']);
    expect(res.body.error.requestId).toBe(res.headers['request-id']);
    expect(res.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('When the caller sends its own Request-Id, then that id comes back in the header and the body', async () => {
    const res = await gw.api().get('/v1/no-such-thing').set('Request-Id', 'lb-trace-42');
    expect(res.status).toBe(404);
    expect(res.headers['request-id']).toBe('lb-trace-42');
    expect(res.body.error.requestId).toBe('lb-trace-42');
  });
});

describe('GET /metrics', () => {
  it('When purchases are confirmed and declined, then requests by route template, confirmations, declines and ceilings are counted', async () => {
    const operator = await createOperator(gw, { limits: { perPurchase: '5.00', weekly: '60.00', monthly: '150.00' } });
    const publisher = await createPublisher(gw);
    const token = assertion(operator, await provision(gw, operator));
    const before = (await gw.api().get('/metrics')).text;
    const route = '/v1/purchases/:id/confirm';

    expect((await buy(gw, publisher, token, { amount: '2.00' })).res.status).toBe(200);
    const declined = await buy(gw, publisher, token, { amount: '6.00' });
    expect(declined.res.status).toBe(402);
    expect(declined.res.body.error.code).toBe('per_purchase_limit');
    expect(declined.res.body.error.requestId).toBe(declined.res.headers['request-id']);

    const res = await gw.api().get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const after = res.text;
    const delta = (name: string, labels: Record<string, string>) =>
      metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('kiosque_http_requests_total', { method: 'POST', route, status: '200' })).toBeGreaterThanOrEqual(1);
    expect(delta('kiosque_http_requests_total', { method: 'POST', route, status: '402' })).toBeGreaterThanOrEqual(1);
    expect(delta('kiosque_http_request_duration_seconds_count', { method: 'POST', route })).toBeGreaterThanOrEqual(2);
    expect(delta('kiosque_confirmations_total', { kind: 'purchase' })).toBeGreaterThanOrEqual(1);
    expect(delta('kiosque_declines_total', { code: 'per_purchase_limit' })).toBeGreaterThanOrEqual(1);
    expect(delta('kiosque_ceilings_hit_total', { ceiling: 'per_purchase_limit' })).toBeGreaterThanOrEqual(1);
    expect(after).not.toMatch(/route="\/v1\/purchases\/pur_/);
    expect(after).toMatch(/kiosque_db_pool_clients\{state="total"\} [1-9]/);
    expect(after).toContain('kiosque_db_pool_acquire_seconds_count');
  });
});

describe('route labels of /metrics', () => {
  const requestsAt = (text: string, method: string, route: string, status: string) =>
    metricValue(text, 'kiosque_http_requests_total', { method, route, status });

  it('When a purchase and a subscription confirm each fail inside their router, then each is counted under its own full route', async () => {
    const operator = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const token = assertion(operator, await provision(gw, operator));
    const offer = await createSubscriptionOffer(gw, publisher);
    const expired = await createPurchase(gw, publisher);
    await expirePurchase(gw, expired.id);
    const before = (await gw.api().get('/metrics')).text;

    const purchase = await gw.api().post(`/v1/purchases/${expired.id}/confirm`).set(bearer(token));
    expect(purchase.status).toBe(410);
    const missing = await gw.api().post('/v1/subscriptions/sub_nope/confirm').set(bearer(token));
    expect(missing.status).toBe(404);
    expect((await gw.api().post(`/v1/subscriptions/${offer.id}/confirm`).set(bearer(token))).status).toBe(200);

    const after = (await gw.api().get('/metrics')).text;
    const delta = (route: string, status: string) =>
      requestsAt(after, 'POST', route, status) - requestsAt(before, 'POST', route, status);
    expect(delta('/v1/purchases/:id/confirm', '410')).toBe(1);
    expect(delta('/v1/subscriptions/:id/confirm', '404')).toBe(1);
    expect(delta('/v1/subscriptions/:id/confirm', '200')).toBe(1);
    expect(after).not.toMatch(/route="\/:id\/confirm"/);
  });

  it('When a request is refused 401 before its route runs, then it is counted under that route; an unknown path stays unmatched', async () => {
    const before = (await gw.api().get('/metrics')).text;
    expect((await gw.api().post('/v1/purchases/pur_x/confirm')).status).toBe(401);
    expect((await gw.api().get('/v1/purchases').set(bearer('kq_pub_nope'))).status).toBe(401);
    expect((await gw.api().get('/v1/webhooks/nowhere')).status).toBe(401);
    expect((await gw.api().get('/v1/nowhere')).status).toBe(404);

    const after = (await gw.api().get('/metrics')).text;
    const delta = (method: string, route: string, status: string) =>
      requestsAt(after, method, route, status) - requestsAt(before, method, route, status);
    expect(delta('POST', '/v1/purchases/:id/confirm', '401')).toBe(1);
    expect(delta('GET', '/v1/purchases', '401')).toBe(1);
    expect(delta('GET', 'unmatched', '401')).toBe(1);
    expect(delta('GET', 'unmatched', '404')).toBe(1);
  });

  it("When a route is its router's root, then its label has no trailing slash", async () => {
    const publisher = await createPublisher(gw);
    expect((await gw.api().get('/v1/purchases').set(bearer(publisher.apiKey))).status).toBe(200);
    const text = (await gw.api().get('/metrics')).text;
    expect(requestsAt(text, 'GET', '/v1/purchases', '200')).toBeGreaterThanOrEqual(1);
    expect(text.match(/route="[^"]+\/"/g)).toBeNull();
  });
});

describe('GET /v1/admin/reports/monthly', () => {
  it('When an operator and a publisher had a month, then the report counts volumes, declines by code, disputes and conversion', async () => {
    const operator = await createOperator(gw, { limits: { perPurchase: '5.00', weekly: '60.00', monthly: '150.00' } });
    const publisher = await createPublisher(gw, { name: `=HYPERLINK("x") ${unique('p')}` });
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);

    // Two consent pages shown; one of them confirmed through the API.
    const shown = await createPurchase(gw, publisher, { amount: '3.00' });
    for (const offer of [shown, await createPurchase(gw, publisher)]) {
      const browser = gw.api();
      const path = new URL(offer.consentUrl).pathname;
      expect((await browser.get(path).query({ assertion: token })).status).toBe(303);
      expect((await browser.get(path)).status).toBe(200);
    }
    expect((await gw.api().post(`/v1/purchases/${shown.id}/confirm`).set(bearer(token))).status).toBe(200);
    expect((await buy(gw, publisher, token, { amount: '6.00' })).res.status).toBe(402);
    expect(
      (await gw.api().post('/v1/disputes').set(bearer(token)).send({ purchaseId: shown.id, reason: 'not me' })).status,
    ).toBe(201);

    const month = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Europe/Paris',
      year: 'numeric',
      month: '2-digit',
    }).format(new Date());
    const res = await gw.api().get('/v1/admin/reports/monthly').query({ month }).set(admin);
    expect(res.status).toBe(200);
    expect(res.body.month).toBe(month);
    const row = res.body.data.find(
      (r: { operatorId: string; publisherId: string }) =>
        r.operatorId === operator.id && r.publisherId === publisher.id,
    );
    expect(row).toMatchObject({
      confirmations: 1,
      volume: '3.00',
      declines: 1,
      disputes: 1,
      disputeRate: '1.0000',
      consentPagesShown: 2,
      conversion: '0.5000',
    });
    expect(row.declinesByCode.per_purchase_limit).toBe(1);
    expect(row.declinesByCode.weekly_ceiling).toBe(0);

    const csv = await gw.api().get('/v1/admin/reports/monthly').query({ month }).set(admin).set('Accept', 'text/csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toContain(
      'month,operatorId,operatorName,publisherId,publisherName,confirmations,volume,declines,declines_per_purchase_limit',
    );
    const line = lines.find((l) => l.includes(publisher.id));
    expect(line).toContain(`"'=HYPERLINK(""x"")`);
    expect(line).toContain(',1,3.00,1,1,0,0,0,0,0,1,1.0000,2,0.5000');
  });

  it('When the month is not YYYY-MM, then it is 400 naming month, and only the admin may read the report', async () => {
    const bad = await gw.api().get('/v1/admin/reports/monthly').query({ month: '2026-13' }).set(admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toHaveProperty('month');
    const publisher = await createPublisher(gw);
    const forbidden = await gw.api().get('/v1/admin/reports/monthly').set(bearer(publisher.apiKey));
    expect([401, 403]).toContain(forbidden.status);
  });
});
