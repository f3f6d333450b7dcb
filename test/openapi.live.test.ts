import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Response, Test } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingHarness, postBillingRun, waitForRun, type BillingHarness } from './support/billing.js';
import { admin, assertion, bearer, idemKey, unique } from './support/harness.js';
import { expirePurchase, operatorEvents } from './support/rows.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

/*
 * Every answer below, 2xx and errors, comes from the real app over the real
 * PostgreSQL and Redis, and is checked against GET /openapi.json: its status
 * must be documented for its operation, its media type listed, and a JSON body
 * must validate against the schema given (JSON Schema 2020-12, as OpenAPI 3.1).
 */

type Schema = Record<string, unknown>;
interface Doc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>
  >;
  webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: Schema }> } } }>;
  components: Schema;
}

const gw = useGateway({ queuePrefix: unique('q-openapi-live') });
let billing: BillingHarness;
let doc: Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const validators = new Map<string, ValidateFunction>();
const checked = new Set<string>();

/** A schema of the document compiled on its own, its `#/components/...` references resolved in the document. */
function validatorFor(key: string, schema: Schema): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({ ...schema, components: doc.components });
    validators.set(key, validate);
  }
  return validate;
}

/** The documented path a concrete one is served under: the match with the most literal segments. */
function templateOf(path: string): string | undefined {
  const candidates = Object.keys(doc.paths).filter((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
  );
  const literal = (t: string) => t.split('/').filter((s) => !s.startsWith('{')).length;
  return candidates.sort((a, b) => literal(b) - literal(a))[0];
}

function conform(res: Response): void {
  const request = (res as unknown as { request: { method: string; url: string } }).request;
  const method = request.method.toLowerCase();
  const template = templateOf(new URL(request.url).pathname);
  const where = `${method.toUpperCase()} ${template ?? request.url} → ${res.status}`;
  expect(template, `${where}: a documented path`).toBeDefined();
  const operation = doc.paths[template as string]?.[method];
  expect(operation, `${where}: a documented operation`).toBeDefined();
  const response = operation?.responses[String(res.status)];
  expect(response, `${where}: a documented status`).toBeDefined();
  const media = response?.content?.[res.type];
  expect(media, `${where}: ${res.type} documented`).toBeDefined();
  if (res.type === 'application/json') {
    const validate = validatorFor(`${method} ${template} ${res.status}`, (media as { schema: Schema }).schema);
    expect(validate(res.body) ? [] : validate.errors, `${where}: ${res.text.slice(0, 400)}`).toEqual([]);
  }
  checked.add(`${method.toUpperCase()} ${template} ${res.status}`);
}

/** Sends, expects `status`, and checks the answer against the document. */
async function live(test: Test, status: number): Promise<Response> {
  const res = await test;
  expect(res.status, res.text.slice(0, 400)).toBe(status);
  conform(res);
  return res;
}

const operator = useOperator(gw, { webhookUrl: 'http://127.0.0.1:9/operator-events' });
const publisher = usePublisher(gw, { category: 'press', webhookUrl: 'http://127.0.0.1:9/events' });
const holderRef = unique('holder');
const childRef = unique('child');
let holder: string;
let child: string;
let purchaseId: string;

beforeAll(async () => {
  billing = billingHarness(gw);
  await billing.startWorker();
  doc = (await gw.api().get('/openapi.json')).body as Doc;
  holder = assertion(operator, holderRef);
  child = assertion(operator, childRef);
});
afterAll(() => billing?.close());

describe('live answers against GET /openapi.json', () => {
  it('When an admin registers an operator and a publisher and the operator a household, then each answer conforms', async () => {
    const api = gw.api();
    await live(
      api
        .post('/v1/admin/operators')
        .set(admin)
        .send({ name: unique('op'), brand: 'Fibre' }),
      201,
    );
    const created = await live(
      api
        .post('/v1/admin/publishers')
        .set(admin)
        .send({ name: unique('pub'), category: 'games' }),
      201,
    );
    await live(api.post(`/v1/admin/publishers/${created.body.id}/suspend`).set(admin), 200);
    await live(api.post(`/v1/admin/publishers/${created.body.id}/reinstate`).set(admin), 200);
    await live(
      api
        .patch(`/v1/admin/operators/${operator.id}`)
        .set(admin)
        .send({ limits: { weekly: '60.00' } }),
      200,
    );
    const put = (ref: string, body: object) =>
      api.put(`/v1/operator/subscribers/${ref}`).set(bearer(operator.apiKey)).send(body);
    await live(put(holderRef, { displayName: 'Alice' }), 201);
    await live(put(holderRef, { displayName: 'Alice B.' }), 200);
    await live(put(childRef, { holderRef, displayName: 'Leo' }), 201);
    await live(api.get('/v1/publisher').set(bearer(publisher.apiKey)), 200);
    await live(api.patch('/v1/publisher').set(bearer(publisher.apiKey)).send({ legalName: 'La Gazette SAS' }), 200);
  });

  it('When a purchase is created, replayed, confirmed, read, listed and refunded, then each answer conforms', async () => {
    const api = gw.api();
    const key = idemKey();
    const body = { amount: '2.88', currency: 'EUR', description: 'Edition du jour', channel: 'isp' };
    const create = () => api.post('/v1/purchases').set(bearer(publisher.apiKey)).set('Idempotency-Key', key);
    purchaseId = (await live(create().send(body), 201)).body.id;
    await live(create().send(body), 201);
    await live(api.get(`/v1/purchases/${purchaseId}`).set(bearer(publisher.apiKey)), 200);
    await live(api.post(`/v1/purchases/${purchaseId}/confirm`).set(bearer(holder)), 200);
    await live(api.post(`/v1/purchases/${purchaseId}/confirm`).set(bearer(holder)), 200);
    await live(api.get(`/v1/purchases/${purchaseId}`).set(bearer(holder)), 200);
    await live(api.get('/v1/purchases').query({ status: 'confirmed' }).set(bearer(publisher.apiKey)), 200);
    await live(api.get('/v1/me/budget').set(bearer(holder)), 200);
    await live(api.get('/v1/me/purchases').set(bearer(holder)), 200);
    await live(api.get('/v1/me/points').set(bearer(holder)), 200);
    const refund = (amount: string) =>
      api
        .post(`/v1/purchases/${purchaseId}/refunds`)
        .set(bearer(publisher.apiKey))
        .set('Idempotency-Key', idemKey())
        .send({ amount });
    await live(refund('1.00'), 201);
    await live(refund('5.00'), 409);
  });

  it('When a subscription is offered, confirmed, read, listed and canceled, then each answer conforms', async () => {
    const api = gw.api();
    const offer = await live(
      api
        .post('/v1/subscriptions')
        .set(bearer(publisher.apiKey))
        .set('Idempotency-Key', idemKey())
        .send({ plan: 'weekly', amount: '1.00', description: 'La Gazette, chaque semaine', channel: 'isp' }),
      201,
    );
    const id = offer.body.id as string;
    await live(api.post(`/v1/subscriptions/${id}/confirm`).set(bearer(holder)), 200);
    await live(api.get(`/v1/subscriptions/${id}`).set(bearer(publisher.apiKey)), 200);
    await live(api.get('/v1/subscriptions').set(bearer(publisher.apiKey)), 200);
    await live(api.get('/v1/me/subscriptions').set(bearer(holder)), 200);
    await live(api.post(`/v1/subscriptions/${id}/cancel`).set(bearer(holder)), 200);
  });

  it('When a holder sets controls and a dispute runs its course, then each answer conforms', async () => {
    const api = gw.api();
    const controls = `/v1/me/children/${childRef}/controls`;
    await live(
      api
        .put(controls)
        .set(bearer(holder))
        .send({ blockedCategories: ['games'] }),
      200,
    );
    await live(api.get(controls).set(bearer(holder)), 200);
    await live(api.put(controls).set(bearer(child)).send({ blocked: true }), 403);
    const opened = await live(
      api.post('/v1/disputes').set(bearer(holder)).send({ purchaseId, reason: 'Not what was described' }),
      201,
    );
    const id = opened.body.id as string;
    await live(api.get(`/v1/disputes/${id}`).set(bearer(publisher.apiKey)), 200);
    await live(api.get('/v1/disputes').set(bearer(operator.apiKey)), 200);
    await live(
      api.post(`/v1/disputes/${id}/response`).set(bearer(publisher.apiKey)).send({ accept: false, evidence: 'Read' }),
      200,
    );
    await live(
      api.post(`/v1/operator/disputes/${id}/resolve`).set(bearer(operator.apiKey)).send({ outcome: 'won' }),
      200,
    );
  });

  it('When the operator bills, reads invoices as JSON and CSV, reports an outcome and reads the money, then each answer conforms', async () => {
    const api = gw.api();
    const queued = await postBillingRun(gw, operator);
    conform(queued);
    expect(queued.status).toBe(202);
    await waitForRun(gw, operator, queued.body.id);
    const op = bearer(operator.apiKey);
    const run = `/v1/operator/billing-runs/${queued.body.id}`;
    await live(api.get(run).set(op), 200);
    const invoices = await live(api.get('/v1/operator/invoices').query({ billingRun: queued.body.id }).set(op), 200);
    await live(api.get('/v1/operator/invoices').query({ billingRun: queued.body.id }).set(op).accept('text/csv'), 200);
    const invoice = (invoices.body.data as { id: string; type: string; total: string }[]).find(
      (i) => i.type === 'invoice',
    );
    expect(invoice).toBeDefined();
    await live(api.get(`/v1/operator/invoices/${invoice?.id}`).set(op), 200);
    await live(
      api
        .post(`/v1/operator/invoices/${invoice?.id}/outcome`)
        .set(op)
        .send({ status: 'partially_paid', collected: '0.01' }),
      200,
    );
    await live(api.post(`/v1/operator/invoices/${invoice?.id}/outcome`).set(op).send({ status: 'paid' }), 409);
    await live(api.get(`${run}/settlement`).set(op), 200);
    await live(api.get(`${run}/reconciliation`).set(op), 200);
    await live(api.get(`${run}/reconciliation`).set(op).accept('text/csv'), 200);
    await live(api.get('/v1/settlements').set(bearer(publisher.apiKey)), 200);
    await live(api.get('/v1/balance').set(bearer(publisher.apiKey)), 200);
    const iban = { iban: 'DE89370400440532013000', holderName: 'Live GmbH' };
    await live(api.put('/v1/publisher/bank-account').set(bearer(publisher.apiKey)).send(iban), 200);
    await live(api.get('/v1/payouts').set(bearer(publisher.apiKey)), 200);
    const payoutRun = await live(
      api
        .post('/v1/admin/payout-runs')
        .set(admin)
        .set('Idempotency-Key', idemKey())
        .send({ executionDate: '2026-12-15', minimum: '99999999.00' }),
      201,
    );
    await live(api.get(`/v1/admin/payout-runs/${payoutRun.body.id}`).set(admin), 200);
    await live(api.get('/v1/admin/ledger/balances').set(admin), 200);
    await live(api.get('/v1/admin/reports/monthly').set(admin), 200);
    await live(api.get('/v1/admin/reports/monthly').set(admin).accept('text/csv'), 200);
  });

  it('When requests are refused (400, 401, 402, 403, 404, 409, 410), then each error body conforms, requestId included', async () => {
    const api = gw.api();
    const pub = bearer(publisher.apiKey);
    const create = (key: string, body: object) =>
      api.post('/v1/purchases').set(pub).set('Idempotency-Key', key).send(body);
    const offer = { amount: '9.99', currency: 'EUR', description: 'Archives', channel: 'isp' };
    const bad = await live(create(idemKey(), { ...offer, channel: 'fax' }), 400);
    expect(bad.body.error.requestId).toBe(bad.headers['request-id']);
    await live(api.post('/v1/purchases').set(pub).send(offer), 400);
    await live(api.get('/v1/admin/reports/monthly').query({ month: '2026-13' }).set(admin), 400);
    await live(api.get(`/v1/purchases/${purchaseId}`), 401);
    await live(api.get('/v1/me/budget').set(bearer('not-a-jwt')), 401);
    await live(api.get('/v1/admin/ledger/balances').set(pub), 403);
    await live(api.get('/v1/purchases/pur_nope').set(pub), 404);
    await live(api.get('/v1/operator/billing-runs/run_nope').set(bearer(operator.apiKey)), 404);
    const key = idemKey();
    await live(create(key, offer), 201);
    await live(create(key, { ...offer, amount: '1.00' }), 409);
    const big = await live(create(idemKey(), { ...offer, amount: '45.00' }), 201);
    const declined = await live(api.post(`/v1/purchases/${big.body.id}/confirm`).set(bearer(holder)), 402);
    expect(declined.body.error.code).toBe('per_purchase_limit');
    const stale = await live(create(idemKey(), offer), 201);
    await expirePurchase(gw, stale.body.id);
    await live(api.post(`/v1/purchases/${stale.body.id}/confirm`).set(bearer(holder)), 410);
    const statuses = new Set([...checked].map((c) => Number(c.split(' ').pop())));
    expect([400, 401, 402, 403, 404, 409, 410].filter((s) => !statuses.has(s))).toEqual([]);
  });

  it("When the walk's webhook events are read back, then each body conforms to its entry in the document's webhooks", async () => {
    const events = await live(
      gw.api().get('/v1/webhooks/events').query({ limit: 200 }).set(bearer(publisher.apiKey)),
      200,
    );
    const publisherBodies = (events.body.data as { payload: { type: string } }[]).map((e) => e.payload);
    const operatorBodies = (await operatorEvents(gw, operator.id)).map((e) => e.payload as { type: string });
    const bodies = [...publisherBodies, ...operatorBodies];
    const types = new Set(bodies.map((b) => b.type));
    expect([...types].sort()).toEqual(
      expect.arrayContaining([
        'dispute.closed',
        'dispute.opened',
        'operator.purchase.confirmed',
        'purchase.charged_back',
        'purchase.confirmed',
        'purchase.refunded',
        'subscription.activated',
        'subscription.canceled',
      ]),
    );
    for (const body of bodies) {
      const webhook = doc.webhooks[body.type];
      expect(webhook, `${body.type} is in webhooks`).toBeDefined();
      const validate = validatorFor(
        `webhook ${body.type}`,
        (webhook as Doc['webhooks'][string]).post.requestBody.content['application/json']?.schema as Schema,
      );
      expect(validate(body) ? [] : validate.errors, JSON.stringify(body).slice(0, 400)).toEqual([]);
    }
  });
});
