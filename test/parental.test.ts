import { describe, expect, it } from 'vitest';
import {
  assertion,
  bearer,
  buy,
  createOperator,
  createPurchase,
  idemKey,
  provision,
  unique,
  type OperatorFixture,
} from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';
import { subscriberRow } from './support/rows.js';

const gw = useGateway();
const operator = useOperator(gw);
const press = usePublisher(gw, { category: 'press' });
const games = usePublisher(gw, { category: 'games' });

interface Household {
  holderRef: string;
  childRef: string;
  holder: string;
  child: string;
}

async function household(op: OperatorFixture = operator): Promise<Household> {
  const holderRef = await provision(gw, op);
  const childRef = await provision(gw, op, unique('child'), { holderRef });
  return { holderRef, childRef, holder: assertion(op, holderRef), child: assertion(op, childRef) };
}

function putControls(token: string, childRef: string, body: Record<string, unknown>) {
  return gw.api().put(`/v1/me/children/${childRef}/controls`).set(bearer(token)).send(body);
}

describe('PUT and GET /v1/me/children/:externalRef/controls', () => {
  it('When the holder sets controls, then they are answered and read back, limits as strings', async () => {
    const h = await household();
    const res = await putControls(h.holder, h.childRef, {
      blocked: false,
      blockedCategories: ['adult', 'games'],
      weekly: '20.00',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      externalRef: h.childRef,
      blocked: false,
      blockedCategories: ['adult', 'games'],
      weekly: '20.00',
      monthly: '150.00',
      pointsAllowed: false,
    });
    const read = await gw.api().get(`/v1/me/children/${h.childRef}/controls`).set(bearer(h.holder));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
  });

  it('When a PUT omits fields, then they go back to their defaults', async () => {
    const h = await household();
    await putControls(h.holder, h.childRef, {
      blocked: true,
      blockedCategories: ['games'],
      weekly: '5.00',
      monthly: '10.00',
    });
    const res = await putControls(h.holder, h.childRef, {});
    expect(res.body).toEqual({
      externalRef: h.childRef,
      blocked: false,
      blockedCategories: [],
      weekly: '60.00',
      monthly: '150.00',
      pointsAllowed: false,
    });
    const row = await subscriberRow(gw, operator.id, h.childRef);
    expect(row.limitWeekly).toBeNull();
  });

  it('When the child itself asks, then it is 403', async () => {
    const h = await household();
    expect((await putControls(h.child, h.childRef, { blocked: false })).status).toBe(403);
    expect((await gw.api().get(`/v1/me/children/${h.childRef}/controls`).set(bearer(h.child))).status).toBe(403);
  });

  it("When another household's holder asks, then it is 403 and the child's controls are unchanged", async () => {
    const h = await household();
    const other = await household();
    const res = await putControls(other.holder, h.childRef, { blocked: true });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    const row = await subscriberRow(gw, operator.id, h.childRef);
    expect(row.blocked).toBe(false);
  });

  it('When a holder names another holder, or a ref nobody provisioned, then it is 403 and 404', async () => {
    const h = await household();
    const other = await household();
    expect((await putControls(h.holder, other.holderRef, { blocked: true })).status).toBe(403);
    expect((await putControls(h.holder, unique('nobody'), { blocked: true })).status).toBe(404);
  });

  it("When a subscriber of another operator uses the same child ref, then it is not that operator's child (404)", async () => {
    const h = await household();
    const elsewhere = await createOperator(gw);
    const stranger = assertion(elsewhere, await provision(gw, elsewhere));
    expect((await putControls(stranger, h.childRef, { blocked: true })).status).toBe(404);
  });

  it("When a limit is above the operator's, then it is 400 naming it and nothing changes", async () => {
    const h = await household();
    await putControls(h.holder, h.childRef, { weekly: '10.00' });
    const res = await putControls(h.holder, h.childRef, { weekly: '60.01', monthly: '150.00', blocked: true });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toHaveProperty('weekly');
    expect(res.body.error.details.fields).not.toHaveProperty('monthly');
    const read = await gw.api().get(`/v1/me/children/${h.childRef}/controls`).set(bearer(h.holder));
    expect(read.body).toMatchObject({ blocked: false, weekly: '10.00' });
  });

  it('When the body has an unknown category, a number amount or an unknown field, then it is 400 naming them', async () => {
    const h = await household();
    const res = await putControls(h.holder, h.childRef, { blockedCategories: ['casino'], weekly: 10, sneaky: true });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(Object.keys(res.body.error.details.fields).sort()).toEqual(['blockedCategories.0', 'sneaky', 'weekly']);
  });
});

describe('Controls take effect at once', () => {
  it("When the holder blocks a child, then the child's pending purchase is declined account_blocked", async () => {
    const h = await household();
    const { id } = await createPurchase(gw, press);
    await putControls(h.holder, h.childRef, { blocked: true });
    const res = await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(h.child));
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('account_blocked');
  });

  it("When the holder blocks a category, then the child's purchase in it is category_blocked and other categories pass", async () => {
    const h = await household();
    await putControls(h.holder, h.childRef, { blockedCategories: ['games'] });
    const blocked = await buy(gw, games, h.child);
    expect(blocked.res.status).toBe(402);
    expect(blocked.res.body.error.code).toBe('category_blocked');
    const allowed = await buy(gw, press, h.child);
    expect(allowed.res.status).toBe(200);
  });

  it('When the holder lowers the weekly ceiling below what the child spent, then the next purchase is weekly_ceiling and the budget shows it', async () => {
    const h = await household();
    expect((await buy(gw, press, h.child, { amount: '5.00' })).res.status).toBe(200);
    await putControls(h.holder, h.childRef, { weekly: '6.00' });
    const res = (await buy(gw, press, h.child, { amount: '2.00' })).res;
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('weekly_ceiling');
    const budget = await gw.api().get('/v1/me/budget').set(bearer(h.child));
    expect(budget.body.weekly).toEqual({ limit: '6.00', spent: '5.00', remaining: '1.00' });
  });

  it('When the holder blocks a child with a pending subscription offer, then confirming it is declined account_blocked', async () => {
    const h = await household();
    const created = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(press.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ plan: 'weekly', amount: '1.00', description: 'Comics weekly', channel: 'isp' });
    await putControls(h.holder, h.childRef, { blocked: true });
    const res = await gw.api().post(`/v1/subscriptions/${created.body.id}/confirm`).set(bearer(h.child));
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('account_blocked');
  });

  it("When a holder sets controls on a child, then the holder's own purchases are not affected", async () => {
    const h = await household();
    await putControls(h.holder, h.childRef, { blocked: true });
    expect((await buy(gw, press, h.holder)).res.status).toBe(200);
  });
});

describe('GET /v1/me/purchases?child=REF', () => {
  it("When the holder asks for a child's purchases, then exactly the child's are listed", async () => {
    const h = await household();
    const { id } = await buy(gw, press, h.child, { amount: '1.10' });
    await buy(gw, press, h.holder, { amount: '1.20' });
    const res = await gw.api().get('/v1/me/purchases').query({ child: h.childRef }).set(bearer(h.holder));
    expect(res.status).toBe(200);
    expect(res.body.data.map((p: { id: string }) => p.id)).toEqual([id]);
  });

  it('When the child itself, or another household, asks, then it is 403', async () => {
    const h = await household();
    const other = await household();
    expect((await gw.api().get('/v1/me/purchases').query({ child: h.childRef }).set(bearer(h.child))).status).toBe(403);
    expect((await gw.api().get('/v1/me/purchases').query({ child: h.childRef }).set(bearer(other.holder))).status).toBe(
      403,
    );
  });
});
