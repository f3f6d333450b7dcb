import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingHarness, postBillingRun, waitForRun, type BillingHarness } from './support/billing.js';
import { registerBankAccount, withPayoutRunsToMyself } from './support/cash.js';
import { spawnGateway, type GatewayProcess } from './support/gateway-process.js';
import {
  admin,
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  idemKey,
  provision,
  unique,
} from './support/harness.js';
import { useGateway } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q-payouts') });
let billing: BillingHarness;
const gateways: GatewayProcess[] = [];

beforeAll(async () => {
  billing = billingHarness(gw);
  await billing.startWorker();
  gateways.push(...(await Promise.all([spawnGateway(), spawnGateway()])));
}, 120_000);
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await billing.close();
});

describe('Payouts never overdraw', () => {
  it('When 20 payouts of 10.00 race against 55.00 across two gateway processes, then exactly five succeed and 5.00 is left', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw, { commissionRates: { isp: '0' } });
    const token = assertion(op, await provision(gw, op));
    expect((await buy(gw, publisher, token, { amount: '30.00' })).res.status).toBe(200);
    expect((await buy(gw, publisher, token, { amount: '25.00' })).res.status).toBe(200);
    const run = await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id);
    // Collected before available: the operator reports the invoice paid.
    const [invoice] = (await gw.api().get('/v1/operator/invoices').query({ billingRun: run.id }).set(bearer(op.apiKey)))
      .body.data;
    expect(
      (
        await gw
          .api()
          .post(`/v1/operator/invoices/${invoice.id}/outcome`)
          .set(bearer(op.apiKey))
          .send({ status: 'paid' })
      ).status,
    ).toBe(200);
    expect((await gw.api().get('/v1/balance').set(bearer(publisher.apiKey))).body.available).toBe('55.00');

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        supertest((gateways[i % 2] as GatewayProcess).url)
          .post(`/v1/admin/publishers/${publisher.id}/payouts`)
          .set(admin)
          .set('Idempotency-Key', idemKey())
          .send({ amount: '10.00' }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);

    expect((await gw.api().get('/v1/balance').set(bearer(publisher.apiKey))).body).toEqual({
      pending: '0.00',
      available: '5.00',
      settled: '55.00',
      paidOut: '50.00',
    });
    const ledger = await gw.api().get('/v1/admin/ledger/balances').set(admin);
    expect(
      ledger.body.accounts.find((a: { account: string }) => a.account === `publisher:${publisher.id}:payable`).balance,
    ).toBe('5.00');
  }, 60_000);

  it('When two payout runs and ten payouts of 10.00 race against 55.00 across two gateway processes, then 55.00 is paid out in all, never more', async () => {
    await withPayoutRunsToMyself(async () => {
      const op = await createOperator(gw);
      const publisher = await createPublisher(gw, { commissionRates: { isp: '0' } });
      const token = assertion(op, await provision(gw, op));
      expect((await buy(gw, publisher, token, { amount: '30.00' })).res.status).toBe(200);
      expect((await buy(gw, publisher, token, { amount: '25.00' })).res.status).toBe(200);
      const run = await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id);
      const [invoice] = (
        await gw.api().get('/v1/operator/invoices').query({ billingRun: run.id }).set(bearer(op.apiKey))
      ).body.data;
      await gw
        .api()
        .post(`/v1/operator/invoices/${invoice.id}/outcome`)
        .set(bearer(op.apiKey))
        .send({ status: 'paid' });
      expect((await registerBankAccount(gw, publisher, 'DE89370400440532013000', 'Racer GmbH')).status).toBe(200);

      const at = (i: number) => supertest((gateways[i % 2] as GatewayProcess).url);
      const answers = await Promise.all([
        ...Array.from({ length: 2 }, (_, i) =>
          at(i)
            .post('/v1/admin/payout-runs')
            .set(admin)
            .set('Idempotency-Key', idemKey())
            .send({ executionDate: '2026-12-15', minimum: '0.01' }),
        ),
        ...Array.from({ length: 10 }, (_, i) =>
          at(i)
            .post(`/v1/admin/publishers/${publisher.id}/payouts`)
            .set(admin)
            .set('Idempotency-Key', idemKey())
            .send({ amount: '10.00' }),
        ),
      ]);
      expect(answers.map((a) => a.status).filter((s) => s !== 201 && s !== 409)).toEqual([]);
      const paid = await gw.ctx.database.prisma.payout.findMany({ where: { publisherId: publisher.id } });
      expect(paid.reduce((s, p) => s + Math.round(Number(p.amount) * 100), 0)).toBe(5500);
      expect((await gw.api().get('/v1/balance').set(bearer(publisher.apiKey))).body).toEqual({
        pending: '0.00',
        available: '0.00',
        settled: '55.00',
        paidOut: '55.00',
      });
    });
  }, 60_000);
});
