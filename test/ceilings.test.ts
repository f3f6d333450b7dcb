import { describe, expect, it } from 'vitest';
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
  unique,
} from './support/harness.js';
import { eventsAbout, expirePurchase, setSubscriberBlocks } from './support/rows.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw, { limits: { perPurchase: '10.00', weekly: '20.00', monthly: '30.00' } });
const publisher = usePublisher(gw);

async function newSubscriber() {
  const ref = await provision(gw, operator);
  return assertion(operator, ref);
}

describe('Ceilings at confirmation', () => {
  it('When a purchase is above the per-purchase limit, then it is declined 402 per_purchase_limit and stays declined', async () => {
    const token = await newSubscriber();
    const { id, res } = await buy(gw, publisher, token, { amount: '10.01' });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({ code: 'per_purchase_limit', details: { purchaseId: id } });
    const read = await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey));
    expect(read.body).toMatchObject({ status: 'declined', declineCode: 'per_purchase_limit' });
    const again = await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(token));
    expect(again.status).toBe(402);
    expect(again.body.error.code).toBe('per_purchase_limit');
  });

  it('When the week is spent to the cent, then the next cent is declined weekly_ceiling', async () => {
    const token = await newSubscriber();
    expect((await buy(gw, publisher, token, { amount: '10.00' })).res.status).toBe(200);
    expect((await buy(gw, publisher, token, { amount: '9.99' })).res.status).toBe(200);
    expect((await buy(gw, publisher, token, { amount: '0.01' })).res.status).toBe(200);
    const over = await buy(gw, publisher, token, { amount: '0.01' });
    expect(over.res.status).toBe(402);
    expect(over.res.body.error.code).toBe('weekly_ceiling');
    const budget = await gw.api().get('/v1/me/budget').set(bearer(token));
    expect(budget.body.weekly).toEqual({ limit: '20.00', spent: '20.00', remaining: '0.00' });
  });

  it('When the month limit is below the week limit, then monthly_ceiling is the one that declines', async () => {
    const tight = await createOperator(gw, { limits: { perPurchase: '10.00', weekly: '50.00', monthly: '15.00' } });
    const token = assertion(tight, await provision(gw, tight));
    expect((await buy(gw, publisher, token, { amount: '10.00' })).res.status).toBe(200);
    const over = await buy(gw, publisher, token, { amount: '5.01' });
    expect(over.res.status).toBe(402);
    expect(over.res.body.error.code).toBe('monthly_ceiling');
  });

  it('When a purchase is refunded, then its amount no longer counts against the ceilings', async () => {
    const token = await newSubscriber();
    const first = await buy(gw, publisher, token, { amount: '10.00' });
    await buy(gw, publisher, token, { amount: '10.00' });
    expect((await buy(gw, publisher, token, { amount: '4.00' })).res.body.error.code).toBe('weekly_ceiling');
    const refund = await gw
      .api()
      .post(`/v1/purchases/${first.id}/refunds`)
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ amount: '4.00' });
    expect(refund.status).toBe(201);
    expect((await buy(gw, publisher, token, { amount: '4.00' })).res.status).toBe(200);
    const budget = await gw.api().get('/v1/me/budget').set(bearer(token));
    expect(budget.body.weekly.spent).toBe('20.00');
  });

  it('When a holder has blocked a child, then the child is declined account_blocked; a blocked category gives category_blocked', async () => {
    const holderRef = await provision(gw, operator);
    const childRef = await provision(gw, operator, unique('child'), { holderRef });
    const token = assertion(operator, childRef);
    await setSubscriberBlocks(gw, operator.id, childRef, { blocked: true });
    expect((await buy(gw, publisher, token)).res.body.error.code).toBe('account_blocked');
    await setSubscriberBlocks(gw, operator.id, childRef, { blocked: false, blockedCategories: ['press'] });
    expect((await buy(gw, publisher, token)).res.body.error.code).toBe('category_blocked');
    const games = await createPublisher(gw, { category: 'games' });
    expect((await buy(gw, games, token)).res.status).toBe(200);
  });

  it('When twenty confirmations for one subscriber arrive at once, then no more than the weekly limit is confirmed', async () => {
    const token = await newSubscriber();
    const purchases = await Promise.all(
      Array.from({ length: 20 }, () => createPurchase(gw, publisher, { amount: '3.00' })),
    );
    const responses = await Promise.all(
      purchases.map((p) => gw.api().post(`/v1/purchases/${p.id}/confirm`).set(bearer(token))),
    );
    const confirmed = responses.filter((r) => r.status === 200).length;
    expect(confirmed).toBe(6); // 6 × 3.00 = 18.00 ≤ 20.00 < 7 × 3.00
    expect(responses.filter((r) => r.status === 402).every((r) => r.body.error.code === 'weekly_ceiling')).toBe(true);
  });
});

describe('Who may sell, and for how long', () => {
  it('When a publisher is suspended, then it can create nothing and its pending purchases are declined publisher_suspended', async () => {
    const seller = await createPublisher(gw);
    const token = await newSubscriber();
    const pending = await createPurchase(gw, seller);
    expect((await gw.api().post(`/v1/admin/publishers/${seller.id}/suspend`).set(admin)).status).toBe(200);
    const create = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(seller.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ amount: '1.00', currency: 'EUR', description: 'x', channel: 'isp' });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    const confirm = await gw.api().post(`/v1/purchases/${pending.id}/confirm`).set(bearer(token));
    expect(confirm.status).toBe(402);
    expect(confirm.body.error.code).toBe('publisher_suspended');
    expect((await gw.api().post(`/v1/admin/publishers/${seller.id}/reinstate`).set(admin)).status).toBe(200);
    expect((await buy(gw, seller, token)).res.status).toBe(200);
  });

  it('When a pending purchase is older than 10 minutes, then confirming it is 410 consent_expired and it reads as expired', async () => {
    const token = await newSubscriber();
    const { id } = await createPurchase(gw, publisher);
    await expirePurchase(gw, id);
    const res = await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(token));
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('consent_expired');
    expect((await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey))).body.status).toBe('expired');
  });

  it('When a second subscriber tries to confirm a purchase the first one owns, then it is 404 not_found', async () => {
    const first = await newSubscriber();
    const second = await newSubscriber();
    const { id } = await buy(gw, publisher, first);
    const res = await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(second));
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect((await gw.api().get(`/v1/purchases/${id}`).set(bearer(second))).status).toBe(404);
  });

  it('When ten subscribers confirm one purchase at the same moment, then exactly one owns it and the others get 404', async () => {
    const tokens = await Promise.all(Array.from({ length: 10 }, () => newSubscriber()));
    const { id } = await createPurchase(gw, publisher);
    const responses = await Promise.all(tokens.map((t) => gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(t))));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 404)).toHaveLength(9);
    expect(await eventsAbout(gw, 'purchase.confirmed', id)).toHaveLength(1);
  });

  it('When one subscriber confirms the same purchase five times at once, then all five answers are the same confirmation', async () => {
    const token = await newSubscriber();
    const { id } = await createPurchase(gw, publisher);
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(token))),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(responses.map((r) => r.body.confirmedAt)).size).toBe(1);
  });
});
