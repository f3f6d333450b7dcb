import { describe, expect, it } from 'vitest';
import { assertion, bearer, buy, createOperator, createPublisher, idemKey, provision } from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';
import { purchaseRow } from './support/rows.js';

const gw = useGateway();
const operator = useOperator(gw);
const publisher = usePublisher(gw, { commissionRates: { isp: '0.15', sms: '0.50', voice: '0.30' } });

describe('POST /v1/purchases then confirm: the two clicks', () => {
  it('When a publisher creates a purchase, then it is pending with a consent URL expiring in 10 minutes', async () => {
    const res = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({
        amount: '2.88',
        currency: 'EUR',
        description: 'Le journal du jour',
        channel: 'isp',
        returnUrl: 'https://news.example/article/1',
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'pending', amount: '2.88', channel: 'isp', currency: 'EUR' });
    expect(res.body.consentUrl).toBe(`http://kiosque.test/consent/purchases/${res.body.id}`);
    const ttlMs = Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt);
    expect(ttlMs).toBe(10 * 60 * 1000);
  });

  it('When the subscriber confirms, then the purchase is confirmed and the commission of its channel is recorded', async () => {
    const ref = await provision(gw, operator);
    const { id, res } = await buy(gw, publisher, assertion(operator, ref), { amount: '3.33', channel: 'sms' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, status: 'confirmed', amount: '3.33' });
    expect(Date.parse(res.body.confirmedAt)).toBeGreaterThan(0);
    const row = await purchaseRow(gw, id);
    expect(row.commissionRate?.toString()).toBe('0.5');
    // 3.33 × 0.50 = 1.665, half-even to the cent: 1.66.
    expect(row.commissionAmount?.toFixed(2)).toBe('1.66');
  });

  it('When the subscriber confirms twice, then the second answer is the same confirmed purchase', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const { id, res } = await buy(gw, publisher, token);
    const again = await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(token));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
  });

  it('When a credits pack is sold, then its credits are kept and shown', async () => {
    const res = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({
        amount: '4.99',
        currency: 'EUR',
        description: '500 gems',
        channel: 'voice',
        kind: 'credits',
        credits: 500,
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'credits', credits: 500 });
  });

  it('When the publisher and the subscriber read the purchase, then both see it', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const { id } = await buy(gw, publisher, token);
    const asPublisher = await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey));
    const asSubscriber = await gw.api().get(`/v1/purchases/${id}`).set(bearer(token));
    expect(asPublisher.status).toBe(200);
    expect(asPublisher.body).toMatchObject({ id, status: 'confirmed', refundedAmount: '0.00' });
    // The subscriber sees the same purchase plus its own consent evidence, which the publisher does not.
    expect(asSubscriber.body).toEqual({
      ...asPublisher.body,
      consent: expect.objectContaining({ pageVersion: 'api-v1' }),
    });
    expect(asPublisher.body).not.toHaveProperty('consent');
  });
});

describe('GET /v1/me/budget and /v1/me/purchases', () => {
  it('When a subscriber has spent, then the budget shows limit, spent and remaining per window', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    await buy(gw, publisher, token, { amount: '12.50' });
    await buy(gw, publisher, token, { amount: '0.75' });
    const res = await gw.api().get('/v1/me/budget').set(bearer(token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      perPurchase: '30.00',
      weekly: { limit: '60.00', spent: '13.25', remaining: '46.75' },
      monthly: { limit: '150.00', spent: '13.25', remaining: '136.75' },
    });
  });

  it('When a subscriber lists purchases in pages, then every purchase appears once, newest first', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await buy(gw, publisher, token, { amount: '1.00' })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { data: { id: string }[]; nextCursor: string | null } } = await gw
        .api()
        .get('/v1/me/purchases')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(token));
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((p: { id: string }) => p.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });
});

describe('Idempotency-Key on POST /v1/purchases', () => {
  const body = { amount: '1.50', currency: 'EUR', description: 'Replay me', channel: 'isp' };

  it('When the same key and body are sent again, then the first answer is replayed byte for byte', async () => {
    const key = idemKey();
    const first = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send(body);
    const second = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send(body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers['idempotent-replayed']).toBe('true');
  });

  it('When a confirmation with a key is sent again, then its first answer is replayed byte for byte, a decline too (its request id aside)', async () => {
    const strict = await createOperator(gw, { limits: { perPurchase: '10.00', weekly: '20.00', monthly: '30.00' } });
    const token = assertion(strict, await provision(gw, strict));
    const confirmTwice = async (amount: string) => {
      const { id } = await gw
        .api()
        .post('/v1/purchases')
        .set(bearer(publisher.apiKey))
        .set('Idempotency-Key', idemKey())
        .send({ ...body, amount })
        .then((res) => res.body as { id: string });
      const key = idemKey();
      const send = () => gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(token)).set('Idempotency-Key', key);
      return [await send(), await send()] as const;
    };
    for (const [amount, status] of [
      ['1.00', 200],
      ['12.00', 402],
    ] as const) {
      const [first, second] = await confirmTwice(amount);
      expect(first.status).toBe(status);
      expect(second.status).toBe(status);
      // An error body names the request that got it (src/observability/http.ts): everything else is the same bytes.
      const withoutRequestId = (text: string) => text.replace(/"requestId":"[^"]*"/, '');
      expect(withoutRequestId(second.text)).toBe(withoutRequestId(first.text));
      expect(second.headers['idempotent-replayed']).toBe('true');
    }
  });

  it('When twenty requests with one key arrive at once, then exactly one purchase is made', async () => {
    const key = idemKey();
    const description = `concurrent ${key}`;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        gw
          .api()
          .post('/v1/purchases')
          .set(bearer(publisher.apiKey))
          .set('Idempotency-Key', key)
          .send({ ...body, description }),
      ),
    );
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(await gw.ctx.database.prisma.purchase.count({ where: { description } })).toBe(1);
  });

  it('When two publishers use the same key, then each gets its own purchase', async () => {
    const other = await createPublisher(gw);
    const key = idemKey();
    const a = await gw.api().post('/v1/purchases').set(bearer(publisher.apiKey)).set('Idempotency-Key', key).send(body);
    const b = await gw.api().post('/v1/purchases').set(bearer(other.apiKey)).set('Idempotency-Key', key).send(body);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.id).not.toBe(b.body.id);
  });
});
