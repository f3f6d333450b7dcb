import { describe, expect, it } from 'vitest';
import {
  assertion,
  bearer,
  createOperator,
  createPublisher,
  idemKey,
  provision,
  type PublisherFixture,
} from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';
import { expireSubscriptionOffer, publisherEvents, subscriptionCharges, subscriptionRow } from './support/rows.js';

const gw = useGateway();
const operator = useOperator(gw);
const publisher = usePublisher(gw);

const offer = { plan: 'monthly', amount: '9.99', description: 'Le Monde, monthly', channel: 'isp' };

async function createSubscription(body: Record<string, unknown> = {}, by: PublisherFixture = publisher) {
  const res = await gw
    .api()
    .post('/v1/subscriptions')
    .set(bearer(by.apiKey))
    .set('Idempotency-Key', idemKey())
    .send({ ...offer, ...body });
  if (res.status !== 201) throw new Error(`subscription creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; consentUrl: string };
}

async function subscriber(): Promise<string> {
  return assertion(operator, await provision(gw, operator));
}

describe('POST /v1/subscriptions', () => {
  it('When a publisher offers a plan within its tier, then it is pending with a consent URL expiring in 10 minutes', async () => {
    const res = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send(offer);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'pending',
      plan: 'monthly',
      amount: '9.99',
      channel: 'isp',
      currentPeriodEnd: null,
    });
    expect(res.body.consentUrl).toBe(`http://kiosque.test/consent/subscriptions/${res.body.id}`);
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)).toBe(10 * 60 * 1000);
  });

  it.each([
    ['weekly', '5.01'],
    ['monthly', '30.01'],
    ['quarterly', '30.01'],
  ])('When a %s plan costs %s, then it is 400 naming amount and the key stays free', async (plan, amount) => {
    const key = idemKey();
    const bad = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send({ ...offer, plan, amount });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect(bad.body.error.details.fields).toHaveProperty('amount');
    const good = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send({ ...offer, plan, amount: '5.00' });
    expect(good.status).toBe(201);
  });

  it('When the plan is unknown or fields are missing, then it is 400 naming them', async () => {
    const res = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ plan: 'yearly', amount: 5 });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.details.fields)).toEqual(
      expect.arrayContaining(['plan', 'amount', 'description', 'channel']),
    );
  });

  it('When the Idempotency-Key is missing, then it is 400 and nothing is created', async () => {
    const description = `no key ${idemKey()}`;
    const res = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(publisher.apiKey))
      .send({ ...offer, description });
    expect(res.status).toBe(400);
    expect(await gw.ctx.database.prisma.subscription.count({ where: { description } })).toBe(0);
  });

  it('When the same key is sent again, then the first answer is replayed; with another body it is 409', async () => {
    const key = idemKey();
    const first = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send(offer);
    const again = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send(offer);
    const other = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', key)
      .send({ ...offer, amount: '1.00' });
    expect(again.text).toBe(first.text);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
  });

  it('When a subscriber tries to create one, then it is 403', async () => {
    const res = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(await subscriber()))
      .set('Idempotency-Key', idemKey())
      .send(offer);
    expect(res.status).toBe(403);
  });
});

describe('POST /v1/subscriptions/:id/confirm', () => {
  it('When the subscriber confirms, then it is active, the first period is charged at once and the publisher is told', async () => {
    const token = await subscriber();
    const { id } = await createSubscription();
    const res = await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, status: 'active' });
    const start = Date.parse(res.body.currentPeriodStart);
    const end = Date.parse(res.body.currentPeriodEnd);
    // One calendar month in Paris: 28 to 31 days, give or take a daylight-saving hour.
    expect(end - start).toBeGreaterThanOrEqual(28 * 86400_000 - 3600_000);
    expect(end - start).toBeLessThanOrEqual(31 * 86400_000 + 3600_000);
    const charges = await subscriptionCharges(gw, id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: 'confirmed', kind: 'subscription', consentPageVersion: 'api-v1' });
    expect(charges[0]?.amount.toFixed(2)).toBe('9.99');
    expect(charges[0]?.subscriptionPeriodStart?.getTime()).toBe(start);
    const budget = await gw.api().get('/v1/me/budget').set(bearer(token));
    expect(budget.body.weekly.spent).toBe('9.99');
    const events = await publisherEvents(gw, publisher.id, 'subscription.activated');
    expect(events.some((e) => (e.payload as { data: { id: string } }).data.id === id)).toBe(true);
  });

  it('When the subscriber confirms twice, then the answer is the same and one period is charged', async () => {
    const token = await subscriber();
    const { id } = await createSubscription();
    const first = await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token));
    const second = await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token));
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await subscriptionCharges(gw, id)).toHaveLength(1);
  });

  it('When another subscriber confirms a subscription already taken, then it is 404', async () => {
    const { id } = await createSubscription();
    await gw
      .api()
      .post(`/v1/subscriptions/${id}/confirm`)
      .set(bearer(await subscriber()));
    const res = await gw
      .api()
      .post(`/v1/subscriptions/${id}/confirm`)
      .set(bearer(await subscriber()));
    expect(res.status).toBe(404);
  });

  it('When the first period would pass the weekly ceiling, then it is a 402 decline, the subscription is declined and nothing is charged', async () => {
    const tight = await createOperator(gw, { limits: { perPurchase: '30.00', weekly: '10.00', monthly: '150.00' } });
    const token = assertion(tight, await provision(gw, tight));
    const { id } = await createSubscription({ amount: '10.01' });
    const res = await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token));
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('weekly_ceiling');
    const read = await gw.api().get(`/v1/subscriptions/${id}`).set(bearer(publisher.apiKey));
    expect(read.body).toMatchObject({ status: 'declined', declineCode: 'weekly_ceiling' });
    expect(await subscriptionCharges(gw, id)).toHaveLength(0);
  });

  it('When the offer expired before the click, then it is 410 consent_expired', async () => {
    const { id } = await createSubscription();
    await expireSubscriptionOffer(gw, id);
    const res = await gw
      .api()
      .post(`/v1/subscriptions/${id}/confirm`)
      .set(bearer(await subscriber()));
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('consent_expired');
  });

  it('When five subscriptions of one subscriber are confirmed at once, then the weekly ceiling is never passed', async () => {
    const tight = await createOperator(gw, { limits: { perPurchase: '30.00', weekly: '10.00', monthly: '150.00' } });
    const token = assertion(tight, await provision(gw, tight));
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => createSubscription({ amount: '4.00' }).then((s) => s.id)),
    );
    const answers = await Promise.all(
      ids.map((id) => gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token))),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(2);
    expect(answers.filter((r) => r.status === 402).map((r) => r.body.error.code)).toEqual(
      Array(3).fill('weekly_ceiling'),
    );
    const budget = await gw.api().get('/v1/me/budget').set(bearer(token));
    expect(budget.body.weekly).toEqual({ limit: '10.00', spent: '8.00', remaining: '2.00' });
  });
});

describe('GET, cancel and list', () => {
  it('When its publisher and its subscriber read it, then both see it; other publishers and subscribers get 404', async () => {
    const token = await subscriber();
    const { id } = await createSubscription();
    await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token));
    const asPublisher = await gw.api().get(`/v1/subscriptions/${id}`).set(bearer(publisher.apiKey));
    const asSubscriber = await gw.api().get(`/v1/subscriptions/${id}`).set(bearer(token));
    expect(asPublisher.status).toBe(200);
    expect(asSubscriber.body).toEqual(asPublisher.body);
    const stranger = await createPublisher(gw);
    expect((await gw.api().get(`/v1/subscriptions/${id}`).set(bearer(stranger.apiKey))).status).toBe(404);
    expect(
      (
        await gw
          .api()
          .get(`/v1/subscriptions/${id}`)
          .set(bearer(await subscriber()))
      ).status,
    ).toBe(404);
  });

  it('When its subscriber cancels, then it is canceled, renewals stop, the publisher is told, and canceling again answers the same', async () => {
    const token = await subscriber();
    const { id } = await createSubscription();
    await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token));
    const res = await gw.api().post(`/v1/subscriptions/${id}/cancel`).set(bearer(token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, status: 'canceled', nextRenewalAttemptAt: null });
    const again = await gw.api().post(`/v1/subscriptions/${id}/cancel`).set(bearer(publisher.apiKey));
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('canceled');
    const events = await publisherEvents(gw, publisher.id, 'subscription.canceled');
    expect(events.filter((e) => (e.payload as { data: { id: string } }).data.id === id)).toHaveLength(1);
  });

  it('When its publisher cancels, then it is canceled; another publisher or subscriber gets 404', async () => {
    const token = await subscriber();
    const { id } = await createSubscription();
    await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token));
    const stranger = await createPublisher(gw);
    expect((await gw.api().post(`/v1/subscriptions/${id}/cancel`).set(bearer(stranger.apiKey))).status).toBe(404);
    expect(
      (
        await gw
          .api()
          .post(`/v1/subscriptions/${id}/cancel`)
          .set(bearer(await subscriber()))
      ).status,
    ).toBe(404);
    const res = await gw.api().post(`/v1/subscriptions/${id}/cancel`).set(bearer(publisher.apiKey));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('canceled');
  });

  it('When a declined subscription is canceled, then it is 409 invalid_state', async () => {
    const tight = await createOperator(gw, { limits: { perPurchase: '1.00', weekly: '60.00', monthly: '150.00' } });
    const token = assertion(tight, await provision(gw, tight));
    const { id } = await createSubscription();
    expect((await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token))).body.error.code).toBe(
      'per_purchase_limit',
    );
    const res = await gw.api().post(`/v1/subscriptions/${id}/cancel`).set(bearer(token));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('invalid_state');
  });

  it("When a subscriber lists subscriptions in pages, then each of theirs appears once, newest first, and no one else's", async () => {
    const token = await subscriber();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { id } = await createSubscription({ amount: '1.00' });
      await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token));
      ids.push(id);
    }
    await createSubscription().then(({ id }) =>
      subscriber().then((other) => gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(other))),
    );
    const first = await gw.api().get('/v1/me/subscriptions').query({ limit: 2 }).set(bearer(token));
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    const second = await gw
      .api()
      .get('/v1/me/subscriptions')
      .query({ limit: 2, cursor: first.body.nextCursor })
      .set(bearer(token));
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.data, ...second.body.data].map((s: { id: string }) => s.id)).toEqual([...ids].reverse());
  });
});

describe('The subscription consent page', () => {
  it('When a subscriber opens it and clicks confirm, then it shows the cadence (in French by default), cannot be framed, and activates the subscription', async () => {
    const ref = await provision(gw, operator);
    const { id, consentUrl } = await createSubscription({
      plan: 'weekly',
      amount: '2.50',
      description: 'Weekly crosswords',
    });
    const agent = gw.api();
    const path = new URL(consentUrl).pathname;
    const landing = await agent.get(path).query({ assertion: assertion(operator, ref) });
    expect(landing.status).toBe(303);
    expect(landing.headers.location).toBe(path);
    const page = await agent.get(path);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.text).toContain('Weekly crosswords');
    expect(page.text).toContain('par semaine');
    expect(page.text).toContain(operator.brand);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
    expect(csrf).toBeTruthy();
    const forged = await agent.post(`${path}/confirm`).type('form').send({ csrf: 'forged' });
    expect(forged.status).toBe(403);
    const confirmed = await agent.post(`${path}/confirm`).type('form').send({ csrf });
    expect(confirmed.status).toBe(200);
    const row = await subscriptionRow(gw, id);
    expect(row.status).toBe('active');
    const charge = await gw.ctx.database.prisma.purchase.findFirstOrThrow({ where: { subscriptionId: id } });
    expect(charge.consentPageVersion).not.toBe('api-v1');
  });

  it('When a purchase page CSRF token is replayed on a subscription, then it is refused', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createSubscription();
    const agent = gw.api();
    const path = new URL(consentUrl).pathname;
    await agent.get(path).query({ assertion: assertion(operator, ref) });
    const page = await agent.get(path);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
    const other = await createSubscription();
    const res = await agent
      .post(`${new URL(other.consentUrl).pathname}/confirm`)
      .type('form')
      .send({ csrf });
    expect(res.status).toBe(403);
  });
});
