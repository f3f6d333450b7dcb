import type supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import {
  admin,
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  createPurchase,
  idemKey,
  provision,
  startTestGateway,
  unique,
} from './support/harness.js';
import {
  operatorsWithSubscriber,
  publishersNamed,
  purchasesDescribed,
  refundCount,
  storedRowText,
  operatorsNamed,
} from './support/rows.js';
import { useGateway, useOperator, usePublisher, useSubscriber } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw);
const otherOperator = useOperator(gw);
const publisher = usePublisher(gw);
const subscriber = useSubscriber(gw, operator);

const purchaseBody = { amount: '1.00', currency: 'EUR', description: 'An article', channel: 'isp' };

function expectErrorBody(res: supertest.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({
    error: { code, message: expect.any(String), details: expect.any(Object), requestId: expect.any(String) },
  });
  expect(res.body.error.message.length).toBeGreaterThan(0);
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token with whatever header the attacker likes and no signature. */
function unsignedToken(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${base64url(header)}.${base64url(payload)}.`;
}

const nowS = () => Math.floor(Date.now() / 1000);

describe('Forged or missing credentials are 401 unauthorized', () => {
  it('When no Authorization header is sent, then every protected endpoint answers 401 with the error body', async () => {
    const requests = [
      gw.api().get('/v1/me/budget'),
      gw.api().post('/v1/purchases').set('Idempotency-Key', idemKey()).send(purchaseBody),
      gw.api().post('/v1/admin/operators').send({ name: 'x', brand: 'y' }),
      gw
        .api()
        .put(`/v1/operator/subscribers/${unique('sub')}`)
        .send({}),
    ];
    for (const res of await Promise.all(requests)) expectErrorBody(res, 401, 'unauthorized');
  });

  it('When the Authorization header is malformed, then it is 401', async () => {
    const token = assertion(operator, subscriber.externalRef);
    for (const header of [
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer ',
      `Bearer ${token} extra`,
      token,
      `Token ${token}`,
    ]) {
      const res = await gw.api().get('/v1/me/budget').set('Authorization', header);
      expectErrorBody(res, 401, 'unauthorized');
    }
  });

  it('When an API key with a known prefix is unknown, then it is 401 for each prefix', async () => {
    for (const key of [
      `kq_op_${'A'.repeat(32)}`,
      `kq_pub_${'A'.repeat(32)}`,
      `${operator.apiKey}x`,
      publisher.apiKey.slice(0, -1),
    ]) {
      const res = await gw.api().get('/v1/purchases/pur_x').set(bearer(key));
      expectErrorBody(res, 401, 'unauthorized');
    }
  });

  it('When the admin key is wrong, then admin routes answer 401 and create nothing', async () => {
    const name = unique('Intruder');
    for (const key of ['test_admin_key_012345678', 'test_admin_key_01234567890', 'TEST_ADMIN_KEY_0123456789']) {
      const res = await gw.api().post('/v1/admin/operators').set(bearer(key)).send({ name, brand: 'Evil' });
      expectErrorBody(res, 401, 'unauthorized');
    }
    expect(await operatorsNamed(gw, name)).toBe(0);
  });

  const forgeries: [string, () => string][] = [
    [
      "signed with another operator's secret",
      () => assertion({ id: operator.id, assertionSecret: otherOperator.assertionSecret }, subscriber.externalRef),
    ],
    ['with a wrong audience', () => assertion(operator, subscriber.externalRef, { audience: 'someone-else' })],
    [
      'without an audience',
      () =>
        jwt.sign({ iss: operator.id, sub: subscriber.externalRef, exp: nowS() + 300 }, operator.assertionSecret, {
          algorithm: 'HS256',
        }),
    ],
    [
      'from an unknown issuer',
      () => assertion({ id: unique('op'), assertionSecret: operator.assertionSecret }, subscriber.externalRef),
    ],
    [
      'expired five minutes ago',
      () =>
        jwt.sign({ exp: nowS() - 300 }, operator.assertionSecret, {
          algorithm: 'HS256',
          issuer: operator.id,
          subject: subscriber.externalRef,
          audience: 'kiosque',
        }),
    ],
    ['expiring more than 10 minutes ahead', () => assertion(operator, subscriber.externalRef, { expiresIn: 15 * 60 })],
    [
      'without exp',
      () =>
        jwt.sign({}, operator.assertionSecret, {
          algorithm: 'HS256',
          issuer: operator.id,
          subject: subscriber.externalRef,
          audience: 'kiosque',
        }),
    ],
    ['signed with HS512', () => assertion(operator, subscriber.externalRef, { algorithm: 'HS512' })],
    [
      'with alg none',
      () =>
        unsignedToken(
          { alg: 'none', typ: 'JWT' },
          { iss: operator.id, sub: subscriber.externalRef, aud: 'kiosque', exp: nowS() + 300 },
        ),
    ],
    [
      'with alg none claiming a valid signature',
      () =>
        `${unsignedToken({ alg: 'none' }, { iss: operator.id, sub: subscriber.externalRef, aud: 'kiosque', exp: nowS() + 300 })}${assertion(operator, subscriber.externalRef).split('.')[2]}`,
    ],
    [
      'with a tampered subject',
      () => {
        const [header, , signature] = assertion(operator, subscriber.externalRef).split('.');
        return `${header}.${base64url({ iss: operator.id, sub: unique('sub'), aud: 'kiosque', exp: nowS() + 300 })}.${signature}`;
      },
    ],
    ['for a subscriber its operator never provisioned', () => assertion(operator, unique('never-provisioned'))],
    ['for a subscriber provisioned by another operator only', () => assertion(otherOperator, subscriber.externalRef)],
  ];

  for (const [what, token] of forgeries) {
    it(`When an assertion ${what} is presented, then it is 401`, async () => {
      const budget = await gw.api().get('/v1/me/budget').set(bearer(token()));
      expectErrorBody(budget, 401, 'unauthorized');
      const { id } = await createPurchase(gw, publisher);
      const confirm = await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(token()));
      expectErrorBody(confirm, 401, 'unauthorized');
      const read = await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey));
      expect(read.body.status).toBe('pending');
    });
  }

  it('When the genuine assertion is presented, then the same endpoints accept it', async () => {
    const res = await gw
      .api()
      .get('/v1/me/budget')
      .set(bearer(assertion(operator, subscriber.externalRef)));
    expect(res.status).toBe(200);
  });
});

describe('Valid credentials of the wrong kind are 403 forbidden', () => {
  it('When a publisher calls admin routes, then it is 403 and nothing is created', async () => {
    const name = unique('Sneaky');
    const res = await gw
      .api()
      .post('/v1/admin/publishers')
      .set(bearer(publisher.apiKey))
      .send({ name, category: 'press' });
    expectErrorBody(res, 403, 'forbidden');
    const suspend = await gw.api().post(`/v1/admin/publishers/${publisher.id}/suspend`).set(bearer(publisher.apiKey));
    expectErrorBody(suspend, 403, 'forbidden');
    expect(await publishersNamed(gw, name)).toBe(0);
  });

  it('When an operator or a subscriber calls admin routes, then it is 403', async () => {
    for (const credential of [operator.apiKey, assertion(operator, subscriber.externalRef)]) {
      const res = await gw
        .api()
        .post('/v1/admin/operators')
        .set(bearer(credential))
        .send({ name: unique('x'), brand: 'y' });
      expectErrorBody(res, 403, 'forbidden');
    }
  });

  it('When a subscriber creates a purchase, then it is 403', async () => {
    const description = unique('self-made');
    const res = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(assertion(operator, subscriber.externalRef)))
      .set('Idempotency-Key', idemKey())
      .send({ ...purchaseBody, description });
    expectErrorBody(res, 403, 'forbidden');
    expect(await purchasesDescribed(gw, description)).toBe(0);
  });

  it('When an operator or a publisher reads /v1/me/budget, then it is 403', async () => {
    for (const credential of [operator.apiKey, publisher.apiKey, admin.Authorization.slice('Bearer '.length)]) {
      const res = await gw.api().get('/v1/me/budget').set(bearer(credential));
      expectErrorBody(res, 403, 'forbidden');
    }
  });

  it('When a publisher provisions subscribers, then it is 403', async () => {
    const ref = unique('sub');
    const res = await gw.api().put(`/v1/operator/subscribers/${ref}`).set(bearer(publisher.apiKey)).send({});
    expectErrorBody(res, 403, 'forbidden');
    expect(await operatorsWithSubscriber(gw, ref)).toEqual([]);
  });
});

describe('Nobody sees what is not theirs', () => {
  it("When a publisher reads another publisher's purchase, then it is 404 as if it did not exist", async () => {
    const other = await createPublisher(gw);
    const { id } = await createPurchase(gw, publisher);
    const res = await gw.api().get(`/v1/purchases/${id}`).set(bearer(other.apiKey));
    expectErrorBody(res, 404, 'not_found');
    const missing = await gw.api().get('/v1/purchases/pur_missing').set(bearer(other.apiKey));
    expect(missing.body.error.message).toBe(res.body.error.message);
  });

  it("When a publisher refunds another publisher's purchase, then it is 404 and nothing is refunded", async () => {
    const other = await createPublisher(gw);
    const { id, res: confirmed } = await buy(gw, publisher, assertion(operator, await provision(gw, operator)));
    expect(confirmed.status).toBe(200);
    const res = await gw
      .api()
      .post(`/v1/purchases/${id}/refunds`)
      .set(bearer(other.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expectErrorBody(res, 404, 'not_found');
    expect(await refundCount(gw, id)).toBe(0);
  });

  it("When a subscriber reads another subscriber's confirmed purchase, then it is 404", async () => {
    const { id } = await buy(gw, publisher, assertion(operator, await provision(gw, operator)));
    const stranger = assertion(operator, await provision(gw, operator));
    const res = await gw.api().get(`/v1/purchases/${id}`).set(bearer(stranger));
    expectErrorBody(res, 404, 'not_found');
  });

  it('When two operators provision the same externalRef, then they are two subscribers with separate budgets', async () => {
    const ref = unique('shared-ref');
    await provision(gw, operator, ref);
    await provision(gw, otherOperator, ref);
    expect((await operatorsWithSubscriber(gw, ref)).sort()).toEqual([operator.id, otherOperator.id].sort());
    const { res } = await buy(gw, publisher, assertion(operator, ref), { amount: '7.00' });
    expect(res.status).toBe(200);
    const mine = await gw
      .api()
      .get('/v1/me/budget')
      .set(bearer(assertion(operator, ref)));
    const theirs = await gw
      .api()
      .get('/v1/me/budget')
      .set(bearer(assertion(otherOperator, ref)));
    expect(mine.body.weekly.spent).toBe('7.00');
    expect(theirs.body.weekly.spent).toBe('0.00');
  });

  it("When an operator names another operator's holder as holderRef, then it is 400 and no household is made", async () => {
    const holder = await provision(gw, operator);
    const child = unique('child');
    const res = await gw
      .api()
      .put(`/v1/operator/subscribers/${child}`)
      .set(bearer(otherOperator.apiKey))
      .send({ holderRef: holder });
    expectErrorBody(res, 400, 'invalid_request');
    expect(res.body.error.details.fields).toHaveProperty('holderRef');
    expect(await operatorsWithSubscriber(gw, child)).toEqual([]);
  });
});

describe('API keys are stored hashed', () => {
  it('When operators and publishers are created, then no database row contains their API key', async () => {
    const op = await createOperator(gw);
    const pub = await createPublisher(gw);
    const opRow = await storedRowText(gw, 'operators', op.id);
    const pubRow = await storedRowText(gw, 'publishers', pub.id);
    expect(opRow).toContain(op.id);
    expect(pubRow).toContain(pub.id);
    expect(opRow).not.toContain(op.apiKey);
    expect(pubRow).not.toContain(pub.apiKey);
    // Nor the random part alone, in case a prefix were stripped before storing.
    expect(opRow).not.toContain(op.apiKey.slice('kq_op_'.length));
    expect(pubRow).not.toContain(pub.apiKey.slice('kq_pub_'.length));
  });

  it('When two operators are created, then their API keys differ and each works only as itself', async () => {
    const a = await createOperator(gw);
    const b = await createOperator(gw);
    expect(a.apiKey).not.toBe(b.apiKey);
    expect(a.apiKey).toMatch(/^kq_op_/);
    const ref = unique('sub');
    await provision(gw, a, ref);
    expect(await operatorsWithSubscriber(gw, ref)).toEqual([a.id]);
  });
});

describe('Rate limiting per credential', () => {
  const limited = useGateway({ rateLimitPerMinute: 3 });

  /** The limiter counts in fixed one-minute windows; start well inside one so four requests share it. */
  async function awayFromWindowEdge(): Promise<void> {
    const intoWindowMs = Date.now() % 60_000;
    if (intoWindowMs > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoWindowMs + 100));
  }

  it('When a credential sends a fourth request in a minute, then it is 429 rate_limited with Retry-After, and another credential is unaffected', async () => {
    const busy = await createPublisher(gw);
    const calm = await createPublisher(gw);
    await awayFromWindowEdge();
    for (let i = 0; i < 3; i++) {
      const res = await limited.api().get('/v1/purchases/pur_none').set(bearer(busy.apiKey));
      expect(res.status).toBe(404);
    }
    const fourth = await limited.api().get('/v1/purchases/pur_none').set(bearer(busy.apiKey));
    expectErrorBody(fourth, 429, 'rate_limited');
    const retryAfterS = Number(fourth.headers['retry-after']);
    expect(Number.isInteger(retryAfterS)).toBe(true);
    expect(retryAfterS).toBeGreaterThan(0);
    expect(retryAfterS).toBeLessThanOrEqual(60);
    const other = await limited.api().get('/v1/purchases/pur_none').set(bearer(calm.apiKey));
    expect(other.status).toBe(404);
  });

  it('When a rate-limited publisher retries a POST, then nothing is created', async () => {
    const busy = await createPublisher(gw);
    await awayFromWindowEdge();
    for (let i = 0; i < 3; i++) await limited.api().get('/v1/purchases/pur_none').set(bearer(busy.apiKey));
    const description = unique('limited');
    const res = await limited
      .api()
      .post('/v1/purchases')
      .set(bearer(busy.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ ...purchaseBody, description });
    expectErrorBody(res, 429, 'rate_limited');
    expect(await purchasesDescribed(gw, description)).toBe(0);
  });

  it('When one address rotates made-up tokens, then the address itself is limited (ten times the per-credential limit)', async () => {
    const fresh = startTestGateway({ rateLimitPerMinute: 3, queuePrefix: unique('rl') });
    try {
      await awayFromWindowEdge();
      const statuses: number[] = [];
      for (let i = 0; i < 31; i++) {
        statuses.push(
          (
            await fresh
              .api()
              .get('/v1/me/budget')
              .set(bearer(`forged-token-${i}`))
          ).status,
        );
      }
      expect(statuses.slice(0, 30).every((status) => status === 401)).toBe(true);
      expect(statuses[30]).toBe(429);
    } finally {
      await fresh.close();
    }
  });
});
