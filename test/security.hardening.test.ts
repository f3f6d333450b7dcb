import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { pino } from 'pino';
import supertest from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.js';
import { admin, assertion, bearer, buy, createPurchase, idemKey, unique } from './support/harness.js';
import { useGateway, useOperator, usePublisher, useSubscriber } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw);
const publisher = usePublisher(gw);
const subscriber = useSubscriber(gw, operator);
/** Every line the app below logs, at info level: what an operator of Kiosque would keep. */
let logLines: string[];
let loggedApp: Express;

beforeAll(() => {
  logLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  loggedApp = createApp({ ...gw.ctx, logger: pino({ level: 'info' }, sink) });
});

const nowS = () => Math.floor(Date.now() / 1000);

async function storedReplay(scopeLike: string, key: string): Promise<string> {
  const rows = await gw.ctx.database.prisma.$queryRaw<{ response_body: string }[]>`
    SELECT response_body FROM idempotency_keys WHERE key = ${key} AND scope LIKE ${scopeLike}`;
  expect(rows).toHaveLength(1);
  return (rows[0] as { response_body: string }).response_body;
}

describe('Secrets shown once are never kept in idempotency records (issue 10, item 1)', () => {
  it('When an operator is created with an Idempotency-Key, then the stored replay holds neither secret and a replay withholds them', async () => {
    const key = idemKey();
    const body = { name: unique('Operator'), brand: unique('Brand') };
    const first = await gw.api().post('/v1/admin/operators').set(admin).set('Idempotency-Key', key).send(body);
    expect(first.status).toBe(201);
    expect(first.body.apiKey).toMatch(/^kq_op_/);
    expect(first.body.assertionSecret).toEqual(expect.any(String));

    const stored = await storedReplay('%', key);
    expect(stored).toContain(first.body.id);
    expect(stored).not.toContain(first.body.apiKey);
    expect(stored).not.toContain(first.body.assertionSecret);

    const replay = await gw.api().post('/v1/admin/operators').set(admin).set('Idempotency-Key', key).send(body);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).not.toContain(first.body.apiKey);
    expect(replay.text).not.toContain(first.body.assertionSecret);
    expect(replay.body).toMatchObject({ id: first.body.id, apiKey: null, assertionSecret: null });
    expect(replay.body.secretsWithheld).toEqual(['apiKey', 'assertionSecret']);
  });

  it('When a publisher is created with an Idempotency-Key, then neither its API key nor its webhook secret is stored or replayed', async () => {
    const key = idemKey();
    const body = { name: unique('Publisher'), category: 'press' };
    const first = await gw.api().post('/v1/admin/publishers').set(admin).set('Idempotency-Key', key).send(body);
    expect(first.status).toBe(201);
    const stored = await storedReplay('%', key);
    expect(stored).not.toContain(first.body.apiKey);
    expect(stored).not.toContain(first.body.webhookSecret);

    const replay = await gw.api().post('/v1/admin/publishers').set(admin).set('Idempotency-Key', key).send(body);
    expect(replay.status).toBe(201);
    expect(replay.text).not.toContain(first.body.apiKey);
    expect(replay.text).not.toContain(first.body.webhookSecret);
    expect(replay.body).toMatchObject({
      id: first.body.id,
      apiKey: null,
      webhookSecret: null,
      secretsWithheld: ['apiKey', 'webhookSecret'],
    });
  });

  it('When an answer carries no secret, then its replay is the first answer byte for byte', async () => {
    const key = idemKey();
    const body = { amount: '1.00', currency: 'EUR', description: 'An article', channel: 'isp' };
    const first = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send(body);
    const replay = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send(body);
    expect(first.status).toBe(201);
    expect(replay.text).toBe(first.text);
  });
});

describe('Deeply nested JSON is refused before anything walks it (item 3)', () => {
  const deepArray = `${'['.repeat(4000)}${']'.repeat(4000)}`;
  const deepObject = `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`;

  it('When a body nests 4,000 levels under 16 kB without credentials, then it is 400 invalid_request and no error is logged', async () => {
    for (const payload of [deepArray, deepObject]) {
      expect(Buffer.byteLength(payload)).toBeLessThan(16 * 1024);
      const before = logLines.length;
      const res = await supertest(loggedApp)
        .post('/v1/purchases')
        .set('Content-Type', 'application/json')
        .send(payload);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      const logged = logLines.slice(before).map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(logged.length).toBeGreaterThan(0);
      expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    }
  });

  it('When a body nests 32 levels, then it is judged on its content as usual', async () => {
    const nested = `${'{"a":'.repeat(31)}1${'}'.repeat(31)}`;
    const res = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .set('Content-Type', 'application/json')
      .send(nested);
    expect(res.status).toBe(400);
    expect(res.body.error.details).not.toHaveProperty('body');
  });
});

describe('Assertions minted in the future are refused (item 4)', () => {
  it('When an assertion has iat or nbf a year ahead, then it is 401', async () => {
    const yearAhead = nowS() + 365 * 24 * 3600;
    for (const claims of [{ iat: yearAhead }, { nbf: yearAhead }, { iat: nowS() + 120 }]) {
      const forged = assertionWith(claims);
      const res = await gw.api().get('/v1/me/budget').set(bearer(forged));
      expect(res.status, JSON.stringify(claims)).toBe(401);
    }
    expect(
      (
        await gw
          .api()
          .get('/v1/me/budget')
          .set(bearer(assertion(operator, subscriber.externalRef)))
      ).status,
    ).toBe(200);
  });
});

function assertionWith(claims: { iat?: number; nbf?: number }): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = { iss: operator.id, sub: subscriber.externalRef, aud: 'kiosque', exp: nowS() + 300, ...claims };
  const signingInput = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${signingInput}.${hmac(operator.assertionSecret, signingInput)}`;
}

const hmac = (secret: string, input: string) => createHmac('sha256', secret).update(input).digest('base64url');

describe('Assertions never reach the log, however the parameter is spelled (item 6)', () => {
  it('When a consent URL carries ?%61ssertion=<jwt>, then the log has no token and the redirect drops it', async () => {
    const { consentUrl } = await createPurchase(gw, publisher);
    const token = assertion(operator, subscriber.externalRef);
    const before = logLines.length;
    const res = await supertest(loggedApp).get(`${new URL(consentUrl).pathname}?%61ssertion=${token}&lang=fr`);
    expect(res.status).toBe(303);
    expect(res.headers.location).not.toContain(token);
    const logged = logLines.slice(before).join('\n');
    expect(logged).toContain('[redacted]');
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(token.split('.')[2]);
  });

  it('When the assertion appears several times and in several spellings, then every occurrence is redacted', async () => {
    const { consentUrl } = await createPurchase(gw, publisher);
    const tokens = [1, 2, 3, 4].map((n) => assertion(operator, subscriber.externalRef, { jwtid: `t${n}` }));
    const query = `assertion=${tokens[0]}&%61ssertion=${tokens[1]}&ASSERTION=${tokens[2]}&assertio%6E=${tokens[3]}&%zz=x`;
    const before = logLines.length;
    await supertest(loggedApp).get(`${new URL(consentUrl).pathname}?${query}`);
    const logged = logLines.slice(before).join('\n');
    expect(logged).toContain('/consent/purchases/');
    for (const token of tokens) expect(logged).not.toContain(token.split('.')[2]);
  });
});

describe('Personal data is never cached (item 7)', () => {
  it('When personal data is read through the API or a consent page, then the answer says Cache-Control: no-store', async () => {
    const token = assertion(operator, subscriber.externalRef);
    const { id } = await buy(gw, publisher, token);
    const { consentUrl } = await createPurchase(gw, publisher);
    const answers = [
      await gw.api().get('/v1/me/budget').set(bearer(token)),
      await gw.api().get('/v1/me/purchases').set(bearer(token)),
      await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey)),
      await gw.api().get(`/v1/purchases/${id}`).set(bearer(token)),
      await gw.api().get('/v1/me/subscriptions').set(bearer(token)),
      await gw.api().get('/v1/me/budget'),
      await gw.api().get(new URL(consentUrl).pathname).set(bearer(token)),
      await gw.api().get(new URL(consentUrl).pathname),
    ];
    answers.forEach((res, index) => expect(res.headers['cache-control'], `answer ${index}`).toBe('no-store'));
    expect(answers.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });
});
