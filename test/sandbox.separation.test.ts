import { beforeAll, describe, expect, it } from 'vitest';
import { runBilling } from '../src/domain/billing.js';
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
  type OperatorFixture,
  type PublisherFixture,
} from './support/harness.js';
import { useGateway } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q-sandbox-sep') });

async function billed(operator: OperatorFixture): Promise<string> {
  const run = await gw
    .api()
    .post('/v1/operator/billing-runs')
    .set(bearer(operator.apiKey))
    .set('Idempotency-Key', idemKey())
    .send({});
  expect(run.status).toBe(202);
  await runBilling(gw.ctx.database, run.body.id);
  return run.body.id as string;
}

async function buyer(operator: OperatorFixture): Promise<string> {
  return assertion(operator, await provision(gw, operator, unique('sub')));
}

describe('sandbox money never mixes with live money', () => {
  let publisher: PublisherFixture;
  let liveOperator: OperatorFixture;
  let sandbox: OperatorFixture;
  let liveRun: string;
  let sandboxRun: string;

  beforeAll(async () => {
    publisher = await createPublisher(gw, { name: unique('Le Monde') });
    liveOperator = await createOperator(gw);
    sandbox = await createOperator(gw, { sandbox: true });
    expect((await buy(gw, publisher, await buyer(liveOperator), { amount: '10.00' })).res.status).toBe(200);
    expect((await buy(gw, publisher, await buyer(sandbox), { amount: '25.00' })).res.status).toBe(200);
    liveRun = await billed(liveOperator);
    sandboxRun = await billed(sandbox);
  });

  it('When a publisher lists its settlements, then it sees only live runs, and the sandbox ones only with ?sandbox=true', async () => {
    const listed = await gw.api().get('/v1/settlements').set(bearer(publisher.apiKey));
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((s: { billingRunId: string }) => s.billingRunId)).toEqual([liveRun]);
    expect(listed.body.data[0]).toMatchObject({ sandbox: false, gross: '10.00' });

    const tests = await gw.api().get('/v1/settlements').query({ sandbox: 'true' }).set(bearer(publisher.apiKey));
    expect(tests.status).toBe(200);
    expect(tests.body.data.map((s: { billingRunId: string }) => s.billingRunId)).toEqual([sandboxRun]);
    expect(tests.body.data[0]).toMatchObject({ sandbox: true, gross: '25.00' });
  });

  it('When a sandbox run settles, then the publisher balance holds only the live net, and a payout cannot take sandbox money', async () => {
    const live = (await gw.api().get('/v1/settlements').set(bearer(publisher.apiKey))).body.data[0];
    // Collected before available: both operators report their invoices paid; only the live one's becomes available.
    for (const [operator, run] of [
      [liveOperator, liveRun],
      [sandbox, sandboxRun],
    ] as const) {
      const docs = await gw.api().get('/v1/operator/invoices').query({ billingRun: run }).set(bearer(operator.apiKey));
      for (const doc of docs.body.data as { id: string }[]) {
        const reported = await gw
          .api()
          .post(`/v1/operator/invoices/${doc.id}/outcome`)
          .set(bearer(operator.apiKey))
          .send({ status: 'paid' });
        expect(reported.status).toBe(200);
      }
    }
    const balance = await gw.api().get('/v1/balance').set(bearer(publisher.apiKey));
    expect(balance.status).toBe(200);
    expect(balance.body.available).toBe(live.net);

    const beyond = await gw
      .api()
      .post(`/v1/admin/publishers/${publisher.id}/payouts`)
      .set(admin)
      .set('Idempotency-Key', idemKey())
      .send({ amount: '20.00' });
    expect(beyond.status).toBe(409);

    const journal = await gw.api().get('/v1/admin/ledger/balances').set(admin);
    const account = (name: string) =>
      journal.body.accounts.find((a: { account: string }) => a.account === name) as { balance: string } | undefined;
    expect(account(`publisher:${publisher.id}:payable`)?.balance).toBe(live.net);
    expect(account(`publisher:${publisher.id}:sandbox_payable`)?.balance).toBe(
      (await gw.api().get('/v1/settlements').query({ sandbox: 'true' }).set(bearer(publisher.apiKey))).body.data[0].net,
    );
  });

  it('When the sandbox query is not true or false, then it is a 400 invalid_request', async () => {
    const res = await gw.api().get('/v1/settlements').query({ sandbox: 'maybe' }).set(bearer(publisher.apiKey));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('sandbox disputes and the dispute rate', () => {
  it("When a sandbox subscriber disputes a purchase, then the publisher's dispute rate counts neither it nor the sandbox sale", async () => {
    const publisher = await createPublisher(gw);
    const live = await createOperator(gw);
    const sandbox = await createOperator(gw, { sandbox: true });
    expect((await buy(gw, publisher, await buyer(live), { amount: '1.00' })).res.status).toBe(200);
    const sandboxToken = await buyer(sandbox);
    const sandboxBuy = await buy(gw, publisher, sandboxToken, { amount: '1.00' });
    expect(sandboxBuy.res.status).toBe(200);
    const opened = await gw
      .api()
      .post('/v1/disputes')
      .set(bearer(sandboxToken))
      .set('Idempotency-Key', idemKey())
      .send({ purchaseId: sandboxBuy.id, reason: 'never received it' });
    expect(opened.status).toBe(201);

    const rate = await gw.api().get(`/v1/admin/publishers/${publisher.id}/dispute-rate`).set(admin);
    expect(rate.status).toBe(200);
    expect(rate.body).toMatchObject({ disputes: 0, confirmedPurchases: 1, disputeRate: '0.000000' });
  });
});
