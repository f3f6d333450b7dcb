import type supertest from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { actorScope } from '../src/http/actors.js';
import { admin, assertion, bearer, buy, createOperator, idemKey, provision, unique } from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';
import {
  publisherRow,
  refundCount,
  publishersNamed,
  operatorsWithSubscriber,
  subscriberRow,
  idempotencyKeyCount,
  operatorsNamed,
} from './support/rows.js';

const gw = useGateway();
const operator = useOperator(gw);
const publisher = usePublisher(gw);
let publisherScope: string;

beforeAll(async () => {
  const row = await publisherRow(gw, publisher.id);
  publisherScope = actorScope({ kind: 'publisher', publisher: row });
});
const valid = { amount: '2.00', currency: 'EUR', description: 'An article', channel: 'isp' };

function expectError(res: supertest.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({
    error: { code, message: expect.any(String), details: expect.any(Object), requestId: expect.any(String) },
  });
}

function expectInvalid(res: supertest.Response, field: string): void {
  expectError(res, 400, 'invalid_request');
  expect(Object.keys(res.body.error.details.fields ?? {})).toContain(field);
}

const purchaseCount = () => gw.ctx.database.prisma.purchase.count({ where: { publisherId: publisher.id } });
const storedUnder = (key: string) => idempotencyKeyCount(gw, key, publisherScope);

const postPurchase = (key: string) =>
  gw.api().post('/v1/purchases').set(bearer(publisher.apiKey)).set('Idempotency-Key', key);

describe('POST /v1/purchases with a bad body', () => {
  const badBodies: [string, Record<string, unknown>, string][] = [
    ['amount as a JSON number', { ...valid, amount: 2 }, 'amount'],
    ['amount with an exponent', { ...valid, amount: '1e1' }, 'amount'],
    ['amount with one decimal', { ...valid, amount: '1.5' }, 'amount'],
    ['amount below the cent', { ...valid, amount: '1.005' }, 'amount'],
    ['amount of zero', { ...valid, amount: '0.00' }, 'amount'],
    ['amount above the regulatory cap', { ...valid, amount: '50.01' }, 'amount'],
    ['a negative amount', { ...valid, amount: '-1.00' }, 'amount'],
    ['amount with spaces', { ...valid, amount: ' 2.00' }, 'amount'],
    ['no currency', { amount: '2.00', description: 'An article', channel: 'isp' }, 'currency'],
    ['currency USD', { ...valid, currency: 'USD' }, 'currency'],
    ['an empty description', { ...valid, description: '' }, 'description'],
    ['a 201-character description', { ...valid, description: 'x'.repeat(201) }, 'description'],
    ['an unknown channel', { ...valid, channel: 'fax' }, 'channel'],
    ['kind credits without credits', { ...valid, kind: 'credits' }, 'credits'],
    ['credits on an article', { ...valid, kind: 'article', credits: 10 }, 'credits'],
    ['credits without a kind', { ...valid, credits: 10 }, 'credits'],
    ['zero credits', { ...valid, kind: 'credits', credits: 0 }, 'credits'],
    ['fractional credits', { ...valid, kind: 'credits', credits: 1.5 }, 'credits'],
    ['credits as a string', { ...valid, kind: 'credits', credits: '10' }, 'credits'],
    ['an unknown kind', { ...valid, kind: 'bundle' }, 'kind'],
    ['an http returnUrl', { ...valid, returnUrl: 'http://news.example/a' }, 'returnUrl'],
    ['a returnUrl that is not a URL', { ...valid, returnUrl: 'not a url' }, 'returnUrl'],
    ['a javascript: returnUrl', { ...valid, returnUrl: 'javascript:alert(1)' }, 'returnUrl'],
  ];

  for (const [what, body, field] of badBodies) {
    it(`When the body has ${what}, then it is 400 naming ${field}, nothing is stored and the key stays usable`, async () => {
      const key = idemKey();
      const before = await purchaseCount();
      const res = await postPurchase(key).send(body);
      expectInvalid(res, field);
      expect(await purchaseCount()).toBe(before);
      expect(await storedUnder(key)).toBe(0);
      const retry = await postPurchase(key).send(valid);
      expect(retry.status).toBe(201);
    });
  }

  it('When the body has an unknown extra field, then it is 400 naming that field and nothing is stored', async () => {
    const key = idemKey();
    const before = await purchaseCount();
    const res = await postPurchase(key).send({ ...valid, discount: '1.00' });
    expectInvalid(res, 'discount');
    expect(await purchaseCount()).toBe(before);
    expect(await storedUnder(key)).toBe(0);
    expect((await postPurchase(key).send(valid)).status).toBe(201);
  });

  it('When the body is a JSON array, then it is 400 and nothing is stored', async () => {
    const key = idemKey();
    const before = await purchaseCount();
    const res = await postPurchase(key).send([valid]);
    expectInvalid(res, 'body');
    expect(await purchaseCount()).toBe(before);
    expect(await storedUnder(key)).toBe(0);
  });

  it('When the body is not JSON by its content type, then it is 400 and nothing is stored', async () => {
    const key = idemKey();
    const before = await purchaseCount();
    for (const [type, text] of [
      ['text/plain', JSON.stringify(valid)],
      ['application/x-www-form-urlencoded', 'amount=2.00&currency=EUR&description=An+article&channel=isp'],
    ] as const) {
      const res = await postPurchase(key).set('Content-Type', type).send(text);
      expectInvalid(res, 'body');
    }
    expect(await purchaseCount()).toBe(before);
    expect(await storedUnder(key)).toBe(0);
  });

  it('When the JSON is malformed, then it is 400 invalid_request and nothing is stored', async () => {
    const key = idemKey();
    const before = await purchaseCount();
    for (const text of ['{"amount": "2.00",', '{amount: "2.00"}', "{'a': 1}", '']) {
      const res = await postPurchase(key).set('Content-Type', 'application/json').send(text);
      expectError(res, 400, 'invalid_request');
    }
    expect(await purchaseCount()).toBe(before);
    expect(await storedUnder(key)).toBe(0);
  });

  it('When the body is over 16 kB, then it is 413 with the error body and nothing is stored', async () => {
    const key = idemKey();
    const before = await purchaseCount();
    const res = await postPurchase(key).send({ ...valid, description: 'x'.repeat(17 * 1024) });
    expectError(res, 413, 'invalid_request');
    expect(await purchaseCount()).toBe(before);
    expect(await storedUnder(key)).toBe(0);
  });

  it('When the body is just under 16 kB but invalid, then it is 400, not 413', async () => {
    const res = await postPurchase(idemKey()).send({ ...valid, description: 'x'.repeat(15 * 1024) });
    expectInvalid(res, 'description');
  });
});

describe('Idempotency-Key header', () => {
  it('When it is missing, then POST /v1/purchases is 400 naming it and nothing is stored', async () => {
    const before = await purchaseCount();
    const res = await gw.api().post('/v1/purchases').set(bearer(publisher.apiKey)).send(valid);
    expectInvalid(res, 'Idempotency-Key');
    expect(await purchaseCount()).toBe(before);
  });

  it('When it is longer than 255 characters, then it is 400 and nothing is stored', async () => {
    const before = await purchaseCount();
    const key = 'k'.repeat(256);
    const res = await postPurchase(key).send(valid);
    expectInvalid(res, 'Idempotency-Key');
    expect(await purchaseCount()).toBe(before);
    expect(await storedUnder(key)).toBe(0);
  });

  it('When it is exactly 255 printable characters, then it is accepted', async () => {
    const key = `${idemKey()}~!`.padEnd(255, 'k');
    const res = await postPurchase(key).send(valid);
    expect(res.status).toBe(201);
    expect(await storedUnder(key)).toBe(1);
  });

  it('When it holds non-printable or non-ASCII characters or is empty, then it is 400 and nothing is stored', async () => {
    const before = await purchaseCount();
    for (const key of [`${idemKey()}\tx`, `${idemKey()}-clé`, '']) {
      const res = await postPurchase(key).send(valid);
      expectInvalid(res, 'Idempotency-Key');
    }
    expect(await purchaseCount()).toBe(before);
  });

  it('When the refund endpoint gets no key, then it is 400 and nothing is refunded', async () => {
    const { id } = await buy(gw, publisher, assertion(operator, await provision(gw, operator)));
    const res = await gw.api().post(`/v1/purchases/${id}/refunds`).set(bearer(publisher.apiKey)).send({});
    expectInvalid(res, 'Idempotency-Key');
    expect(await refundCount(gw, id)).toBe(0);
  });
});

describe('Refunds with a bad amount', () => {
  it('When the refund amount is malformed or zero, then it is 400 naming amount and nothing is refunded', async () => {
    const { id } = await buy(gw, publisher, assertion(operator, await provision(gw, operator)));
    for (const amount of ['0.00', '1', 1, '-1.00', 'abc']) {
      const key = idemKey();
      const res = await gw
        .api()
        .post(`/v1/purchases/${id}/refunds`)
        .set(bearer(publisher.apiKey))
        .set('Idempotency-Key', key)
        .send({ amount });
      expectInvalid(res, 'amount');
      expect(await storedUnder(key)).toBe(0);
    }
    expect(await refundCount(gw, id)).toBe(0);
  });
});

describe('Admin input', () => {
  const operatorWith = (name: string, limits: Record<string, unknown>) =>
    gw.api().post('/v1/admin/operators').set(admin).send({ name, brand: 'Brand', limits });

  it('When operator limits pass the regulatory caps, then it is 400 naming the limit and no operator is created', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ perPurchase: '50.01', weekly: '60.00', monthly: '150.00' }, 'limits.perPurchase'],
      [{ perPurchase: '30.00', weekly: '60.00', monthly: '300.01' }, 'limits.monthly'],
      [{ perPurchase: '30.00', weekly: 60, monthly: '150.00' }, 'limits.weekly'],
      [{ perPurchase: '0.00', weekly: '60.00', monthly: '150.00' }, 'limits.perPurchase'],
      [{ perPurchase: 'abc', weekly: '60.00', monthly: '150.00' }, 'limits.perPurchase'],
      [{ perPurchase: '30.00', weekly: '60.00', monthly: '1e3' }, 'limits.monthly'],
    ];
    for (const [limits, field] of cases) {
      const name = unique('Capped');
      const res = await operatorWith(name, limits);
      expectInvalid(res, field);
      expect(await operatorsNamed(gw, name)).toBe(0);
    }
  });

  it('When operator limits sit exactly at the caps, then the operator is created', async () => {
    const res = await operatorWith(unique('AtCap'), { perPurchase: '50.00', weekly: '300.00', monthly: '300.00' });
    expect(res.status).toBe(201);
    expect(res.body.limits).toEqual({ perPurchase: '50.00', weekly: '300.00', monthly: '300.00' });
  });

  it('When a publisher has an unknown category, then it is 400 naming category and nothing is created', async () => {
    const name = unique('BadCategory');
    const res = await gw.api().post('/v1/admin/publishers').set(admin).send({ name, category: 'casino' });
    expectInvalid(res, 'category');
    expect(await publishersNamed(gw, name)).toBe(0);
  });

  it('When a commission rate is above 1 or malformed, then it is 400 naming the rate and nothing is created', async () => {
    for (const commissionRates of [{ isp: '1.5' }, { sms: '-0.1' }, { voice: 'abc' }, { isp: '0.123456' }]) {
      const name = unique('BadRate');
      const res = await gw
        .api()
        .post('/v1/admin/publishers')
        .set(admin)
        .send({ name, category: 'press', commissionRates });
      expectInvalid(res, `commissionRates.${Object.keys(commissionRates)[0]}`);
      expect(await publishersNamed(gw, name)).toBe(0);
    }
  });

  it('When an operator lacks its name or brand, then it is 400 naming them', async () => {
    const res = await gw.api().post('/v1/admin/operators').set(admin).send({});
    expectInvalid(res, 'name');
    expect(res.body.error.details.fields).toHaveProperty('brand');
  });
});

describe('PUT /v1/operator/subscribers households', () => {
  const put = (ref: string, body: Record<string, unknown>) =>
    gw.api().put(`/v1/operator/subscribers/${ref}`).set(bearer(operator.apiKey)).send(body);

  it('When holderRef names an unknown subscriber, then it is 400 and the child is not created', async () => {
    const ref = unique('child');
    const res = await put(ref, { holderRef: unique('nobody') });
    expectInvalid(res, 'holderRef');
    expect(await operatorsWithSubscriber(gw, ref)).toEqual([]);
  });

  it('When holderRef names a child, then it is 400 (a child has no children)', async () => {
    const holder = await provision(gw, operator);
    const child = await provision(gw, operator, unique('child'), { holderRef: holder });
    const grandchild = unique('grandchild');
    const res = await put(grandchild, { holderRef: child });
    expectInvalid(res, 'holderRef');
    expect(await operatorsWithSubscriber(gw, grandchild)).toEqual([]);
  });

  it('When holderRef names the subscriber itself, then it is 400 and it stays a holder', async () => {
    const ref = await provision(gw, operator);
    const res = await put(ref, { holderRef: ref });
    expectInvalid(res, 'holderRef');
    const row = await subscriberRow(gw, operator.id, ref);
    expect(row.holderId).toBeNull();
  });

  it('When a holder with children is made a child, then it is 400 and the household is unchanged', async () => {
    const holder = await provision(gw, operator);
    const child = await provision(gw, operator, unique('child'), { holderRef: holder });
    const otherHolder = await provision(gw, operator);
    const res = await put(holder, { holderRef: otherHolder });
    expectInvalid(res, 'holderRef');
    const holderRow = await subscriberRow(gw, operator.id, holder);
    const childRow = await subscriberRow(gw, operator.id, child);
    expect(holderRow.holderId).toBeNull();
    expect(childRow.holderId).toBe(holderRow.id);
  });

  it('When the body has an unknown field, then it is 400 and nothing is created', async () => {
    const ref = unique('sub');
    const res = await put(ref, { role: 'admin' });
    expectInvalid(res, 'role');
    expect(await operatorsWithSubscriber(gw, ref)).toEqual([]);
  });
});

describe('Unknown routes and bad query parameters', () => {
  it('When a route does not exist, then it is 404 not_found with the error body, with or without credentials', async () => {
    expectError(await gw.api().get('/v1/nothing-here'), 404, 'not_found');
    expectError(await gw.api().get('/nothing-here'), 404, 'not_found');
    expectError(await gw.api().post('/v1/nothing-here').set(admin).send({}), 404, 'not_found');
    expectError(await gw.api().delete('/v1/purchases').set(bearer(publisher.apiKey)), 404, 'not_found');
  });

  it('When /v1/me/purchases gets limit 0, 201 or abc, then it is 400 naming limit', async () => {
    const token = assertion(operator, await provision(gw, operator));
    for (const limit of ['0', '201', 'abc', '1.5', '-1']) {
      const res = await gw.api().get('/v1/me/purchases').query({ limit }).set(bearer(token));
      expectInvalid(res, 'limit');
    }
    const ok = await gw.api().get('/v1/me/purchases').query({ limit: '200' }).set(bearer(token));
    expect(ok.status).toBe(200);
  });
});

describe('NUL characters, which PostgreSQL text cannot hold', () => {
  it('When a NUL arrives in a body, a path or a query, then it is 400 invalid_request, not a 500', async () => {
    const key = idemKey();
    const body = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send({ amount: '1.00', currency: 'EUR', description: 'a\u0000b', channel: 'isp' });
    expect(body.status).toBe(400);
    expect(body.body.error.code).toBe('invalid_request');
    expect(await idempotencyKeyCount(gw, key)).toBe(0);
    const path = await gw.api().get('/v1/purchases/%00').set(bearer(publisher.apiKey));
    expect(path.status).toBe(400);
    const query = await gw.api().get('/v1/me/purchases?cursor=%00').set(bearer(publisher.apiKey));
    expect(query.status).toBe(400);
  });
});

describe('Households stay one level deep under concurrency', () => {
  it('When A joins B while B joins C at the same moment, then at most one succeeds and no child has children', async () => {
    const operator = await createOperator(gw);
    for (let round = 0; round < 5; round++) {
      const [a, b, c] = [unique('a'), unique('b'), unique('c')];
      await Promise.all([a, b, c].map((ref) => provision(gw, operator, ref)));
      const [joinB, joinC] = await Promise.all([
        gw.api().put(`/v1/operator/subscribers/${a}`).set(bearer(operator.apiKey)).send({ holderRef: b }),
        gw.api().put(`/v1/operator/subscribers/${b}`).set(bearer(operator.apiKey)).send({ holderRef: c }),
      ]);
      expect([joinB.status, joinC.status].filter((s) => s === 200)).toHaveLength(1);
      expect([joinB.status, joinC.status].filter((s) => s === 400)).toHaveLength(1);
      const twoLevels = await gw.ctx.database.prisma.subscriber.count({
        where: { operatorId: operator.id, holderId: { not: null }, children: { some: {} } },
      });
      expect(twoLevels).toBe(0);
    }
  });
});
