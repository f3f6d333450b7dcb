import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBilling } from '../src/domain/billing.js';
import { dispatchDueWebhooks } from '../src/domain/webhook-delivery.js';
import { DECLINE_CODES } from '../src/shared/codes.js';
import { runRenewJob } from '../workers/renewals.js';
import { admin, assertion, bearer, buy, createOperator, idemKey, provision, unique } from './support/harness.js';
import { operatorEvents, operatorRow } from './support/rows.js';
import { useGateway, usePublisher } from './support/world.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const gw = useGateway();
const publisher = usePublisher(gw, { name: unique('La Gazette') });
let hook: WebhookReceiver;

beforeAll(async () => {
  hook = await startWebhookReceiver();
});
afterAll(() => hook.close());

const createOperatorRaw = (body: Record<string, unknown>) =>
  gw
    .api()
    .post('/v1/admin/operators')
    .set(admin)
    .send({ name: unique('Operator'), brand: unique('Brand'), ...body });

describe('sandbox operators', () => {
  it('When a sandbox operator exists, then each sandbox_declined_<code> ref is declined with that code on every purchase', async () => {
    const created = await createOperatorRaw({ sandbox: true });
    expect(created.status).toBe(201);
    expect(created.body.sandbox).toBe(true);
    const operator = { id: created.body.id, assertionSecret: created.body.assertionSecret };
    for (const code of DECLINE_CODES) {
      const token = assertion(operator, `sandbox_declined_${code}`);
      for (let i = 0; i < 2; i++) {
        const { res } = await buy(gw, publisher, token, { amount: '1.00' });
        expect(res.status).toBe(402);
        expect(res.body.error.code).toBe(code);
      }
    }
  });

  it('When a sandbox operator provisions any other ref, then it buys normally and the ceilings still apply', async () => {
    const created = await createOperatorRaw({
      sandbox: true,
      limits: { perPurchase: '5.00', weekly: '60.00', monthly: '150.00' },
    });
    const operator = {
      id: created.body.id,
      apiKey: created.body.apiKey,
      assertionSecret: created.body.assertionSecret,
      brand: '',
    };
    const token = assertion(operator, await provision(gw, operator, 'alice'));
    expect((await buy(gw, publisher, token, { amount: '2.00' })).res.status).toBe(200);
    const over = await buy(gw, publisher, token, { amount: '6.00' });
    expect(over.res.body.error.code).toBe('per_purchase_limit');
  });

  it('When a live operator provisions a ref named like a scenario, then it is an ordinary subscriber', async () => {
    const operator = await createOperator(gw);
    const token = assertion(operator, await provision(gw, operator, 'sandbox_declined_account_blocked'));
    expect((await buy(gw, publisher, token)).res.status).toBe(200);
  });

  it('When a live operator runs billing, then no sandbox purchase of the same publisher is on its invoices', async () => {
    const sandbox = await createOperatorRaw({ sandbox: true });
    const sandboxOp = {
      id: sandbox.body.id,
      apiKey: sandbox.body.apiKey,
      assertionSecret: sandbox.body.assertionSecret,
      brand: '',
    };
    const sandboxBuy = await buy(gw, publisher, assertion(sandboxOp, await provision(gw, sandboxOp, 'bob')));
    const live = await createOperator(gw);
    const liveBuy = await buy(gw, publisher, assertion(live, await provision(gw, live, 'carol')));
    const run = await gw
      .api()
      .post('/v1/operator/billing-runs')
      .set(bearer(live.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expect(run.status).toBe(202);
    await runBilling(gw.ctx.database, run.body.id);
    const invoices = await gw
      .api()
      .get('/v1/operator/invoices')
      .query({ billingRun: run.body.id })
      .set(bearer(live.apiKey));
    const purchaseIds = invoices.body.data.flatMap((i: { lines: { purchaseId: string }[] }) =>
      i.lines.map((l) => l.purchaseId),
    );
    expect(purchaseIds).toEqual([liveBuy.id]);
    expect(purchaseIds).not.toContain(sandboxBuy.id);
  });
});

describe('operator webhooks', () => {
  it('When an operator registers a webhook URL, then purchases send it a signed receipt and a reminder past each 20.00', async () => {
    const created = await createOperatorRaw({ webhookUrl: hook.url });
    expect(created.status).toBe(201);
    expect(created.body.webhookSecret).toMatch(/^whsec_/);
    expect(created.body.webhookUrl).toBe(hook.url);
    const operator = {
      id: created.body.id,
      apiKey: created.body.apiKey,
      assertionSecret: created.body.assertionSecret,
      brand: '',
    };
    const ref = await provision(gw, operator, unique('dave'));
    const token = assertion(operator, ref);
    const first = await buy(gw, publisher, token, { amount: '15.00', description: 'Un article' });
    const second = await buy(gw, publisher, token, { amount: '10.00', description: 'Un autre' });
    expect([first.res.status, second.res.status]).toEqual([200, 200]);

    const before = hook.received.length;
    await dispatchDueWebhooks(gw.ctx.database.sql, { allowPrivateNetworks: true, operatorIds: [operator.id] });
    const deliveries = (await hook.waitFor(before + 3)).slice(before);
    const verifier = new Webhook(created.body.webhookSecret);
    const events = deliveries.map(
      (d) =>
        verifier.verify(d.body, d.headers as Record<string, string>) as { type: string; data: Record<string, unknown> },
    );
    const receipts = events.filter((e) => e.type === 'operator.purchase.confirmed').map((e) => e.data);
    expect(receipts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          subscriberRef: ref,
          purchaseId: first.id,
          amount: '15.00',
          description: 'Un article',
        }),
        expect.objectContaining({ subscriberRef: ref, purchaseId: second.id, amount: '10.00' }),
      ]),
    );
    expect(receipts[0]?.publisherName).toMatch(/^La Gazette/);
    expect(events.filter((e) => e.type === 'operator.spend.threshold').map((e) => e.data)).toEqual([
      { subscriberRef: ref, monthSpent: '25.00', threshold: '20.00' },
    ]);
  });

  it('When a subscription renews, then the operator gets operator.subscription.renewed', async () => {
    const created = await createOperatorRaw({ webhookUrl: hook.url });
    const operator = {
      id: created.body.id,
      apiKey: created.body.apiKey,
      assertionSecret: created.body.assertionSecret,
      brand: '',
    };
    const token = assertion(operator, await provision(gw, operator, unique('erin')));
    const offer = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ plan: 'weekly', amount: '2.00', description: 'Hebdo', channel: 'isp' });
    const confirmed = await gw.api().post(`/v1/subscriptions/${offer.body.id}/confirm`).set(bearer(token));
    expect(confirmed.status).toBe(200);
    const end = new Date(confirmed.body.currentPeriodEnd);
    expect(await runRenewJob(gw.ctx.database, gw.ctx.config.publicUrl, { subscriptionId: offer.body.id }, end)).toBe(
      'renewed',
    );
    const rows = await operatorEvents(gw, operator.id);
    expect(rows.map((r) => r.type)).toEqual(['operator.purchase.confirmed', 'operator.subscription.renewed']);
    expect(rows[1]?.payload).toMatchObject({ data: { subscriptionId: offer.body.id, amount: '2.00', plan: 'weekly' } });
  });

  it('When an operator has no webhook URL, then no operator event is queued', async () => {
    const operator = await createOperator(gw);
    await buy(gw, publisher, assertion(operator, await provision(gw, operator)), { amount: '25.00' });
    expect(await operatorEvents(gw, operator.id)).toHaveLength(0);
  });
});

describe('PATCH /v1/admin/operators/:id', () => {
  it('When the admin lowers the limits, then the next purchase is held to them at once', async () => {
    const operator = await createOperator(gw);
    const token = assertion(operator, await provision(gw, operator));
    const patched = await gw
      .api()
      .patch(`/v1/admin/operators/${operator.id}`)
      .set(admin)
      .send({ limits: { perPurchase: '3.00' } });
    expect(patched.status).toBe(200);
    expect(patched.body.limits).toEqual({ perPurchase: '3.00', weekly: '60.00', monthly: '150.00' });
    expect((await buy(gw, publisher, token, { amount: '4.00' })).res.body.error.code).toBe('per_purchase_limit');
    expect((await buy(gw, publisher, token, { amount: '3.00' })).res.status).toBe(200);
  });

  it('When limits pass the regulatory caps or the URL is bad, then it is 400 naming the field and nothing changes', async () => {
    const operator = await createOperator(gw);
    const over = await gw
      .api()
      .patch(`/v1/admin/operators/${operator.id}`)
      .set(admin)
      .send({ limits: { monthly: '300.01', perPurchase: '50.01' } });
    expect(over.status).toBe(400);
    expect(Object.keys(over.body.error.details.fields).sort()).toEqual(['limits.monthly', 'limits.perPurchase']);
    const badUrl = await gw
      .api()
      .patch(`/v1/admin/operators/${operator.id}`)
      .set(admin)
      .send({ webhookUrl: 'ftp://example.com' });
    expect(badUrl.body.error.details.fields).toHaveProperty('webhookUrl');
    const row = await operatorRow(gw, operator.id);
    expect([row.limitMonthly.toFixed(2), row.webhookUrl]).toEqual(['150.00', null]);
  });

  it('When someone other than the admin patches, or the operator does not exist, then it is 403 or 404', async () => {
    const operator = await createOperator(gw);
    expect(
      (await gw.api().patch(`/v1/admin/operators/${operator.id}`).set(bearer(operator.apiKey)).send({})).status,
    ).toBe(403);
    expect((await gw.api().patch('/v1/admin/operators/op_missing').set(admin).send({})).status).toBe(404);
  });

  it('When the admin sets a webhook URL, then later events go there', async () => {
    const created = await createOperatorRaw({});
    const patched = await gw
      .api()
      .patch(`/v1/admin/operators/${created.body.id}`)
      .set(admin)
      .send({ webhookUrl: hook.url });
    expect(patched.body.webhookUrl).toBe(hook.url);
    const operator = {
      id: created.body.id,
      apiKey: created.body.apiKey,
      assertionSecret: created.body.assertionSecret,
      brand: '',
    };
    await buy(gw, publisher, assertion(operator, await provision(gw, operator)));
    expect(
      (await operatorEvents(gw, operator.id)).filter((e) => e.type === 'operator.purchase.confirmed'),
    ).toHaveLength(1);
  });
});
