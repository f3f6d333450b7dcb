import { beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../src/shared/money.js';
import { sum } from './support/money.js';
import { useBillingHarness, postBillingRun, refund, waitForRun } from './support/billing.js';
import {
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
import { publisherEvents, purchaseRow } from './support/rows.js';

interface SettlementLine {
  publisherId: string;
  gross: string;
  commission: string;
  refunds: string;
  chargebacks: string;
  net: string;
}

const gw = useGateway({ queuePrefix: unique('q-settlement') });
useBillingHarness(gw, { worker: true });

async function settlement(op: OperatorFixture, runId: string): Promise<SettlementLine[]> {
  const res = await gw.api().get(`/v1/operator/billing-runs/${runId}/settlement`).set(bearer(op.apiKey));
  expect(res.status).toBe(200);
  return res.body.data;
}

function expectAddsUp(line: SettlementLine) {
  const parts = sum([line.commission, line.net, line.refunds, line.chargebacks]);
  expect(parts.toFixed(2)).toBe(line.gross);
}

async function invoicesOf(op: OperatorFixture, runId: string) {
  const res = await gw
    .api()
    .get('/v1/operator/invoices')
    .query({ billingRun: runId, limit: 200 })
    .set(bearer(op.apiKey));
  expect(res.status).toBe(200);
  return res.body.data as { id: string; subscriberRef: string; lines: { amount: string; purchaseId: string }[] }[];
}

async function outcome(op: OperatorFixture, invoiceId: string, status: string) {
  return gw.api().post(`/v1/operator/invoices/${invoiceId}/outcome`).set(bearer(op.apiKey)).send({ status });
}

describe('Invoice outcomes', () => {
  let op: OperatorFixture;
  let publisher: PublisherFixture;
  let payerRef: string;
  let defaulterRef: string;
  let runId: string;
  let defaulterBuys: string[];

  beforeAll(async () => {
    op = await createOperator(gw);
    publisher = await createPublisher(gw);
    payerRef = await provision(gw, op);
    defaulterRef = await provision(gw, op);
    const payer = assertion(op, payerRef);
    const defaulter = assertion(op, defaulterRef);
    await buy(gw, publisher, payer, { amount: '3.00' });
    defaulterBuys = [
      (await buy(gw, publisher, defaulter, { amount: '10.00' })).id,
      (await buy(gw, publisher, defaulter, { amount: '2.50' })).id,
    ];
    await refund(gw, publisher.apiKey, defaulterBuys[0] as string, '4.00');
    runId = (await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id)).id;
  });

  it('When an invoice is paid, then it is recorded, and saying so again is a no-op 200', async () => {
    const invoice = (await invoicesOf(op, runId)).find((i) => i.subscriberRef === payerRef);
    const first = await outcome(op, invoice?.id as string, 'paid');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: invoice?.id, status: 'paid' });
    const again = await outcome(op, invoice?.id as string, 'paid');
    expect(again.status).toBe(200);
    expect(again.body.outcomeAt).toBe(first.body.outcomeAt);
  });

  it('When a paid invoice is then called unpaid, then it is 409 invalid_state and nothing is charged back', async () => {
    const invoice = (await invoicesOf(op, runId)).find((i) => i.subscriberRef === payerRef);
    await outcome(op, invoice?.id as string, 'paid');
    const res = await outcome(op, invoice?.id as string, 'unpaid');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('invalid_state');
    const purchases = await gw.ctx.database.prisma.purchase.findMany({ where: { invoiceId: invoice?.id } });
    expect(purchases.every((p) => p.chargedBackAmount.isZero())).toBe(true);
  });

  it('When an invoice is unpaid, then each purchase on it is charged back for what was not refunded, once, with an event', async () => {
    const invoice = (await invoicesOf(op, runId)).find((i) => i.subscriberRef === defaulterRef);
    const res = await outcome(op, invoice?.id as string, 'unpaid');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('unpaid');
    expect((await outcome(op, invoice?.id as string, 'unpaid')).status).toBe(200);
    const purchases = await gw.ctx.database.prisma.purchase.findMany({
      where: { id: { in: defaulterBuys } },
      orderBy: { amount: 'desc' },
    });
    expect(purchases.map((p) => p.chargedBackAmount.toFixed(2))).toEqual(['6.00', '2.50']);
    const events = await publisherEvents(gw, publisher.id, 'purchase.charged_back');
    expect(events).toHaveLength(2);
    // Nothing is left to refund on a purchase the subscriber never paid for.
    const late = await gw
      .api()
      .post(`/v1/purchases/${defaulterBuys[1]}/refunds`)
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expect(late.status).toBe(409);
  });

  it('When the outcome is not paid or unpaid, then it is 400', async () => {
    const [invoice] = await invoicesOf(op, runId);
    const res = await outcome(op, invoice?.id as string, 'lost');
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toHaveProperty('status');
  });
});

describe('GET /v1/operator/billing-runs/:id/settlement', () => {
  it('When publishers with different rates were refunded, then each line adds up to the cent, and a later chargeback is settled by the next run', async () => {
    const op = await createOperator(gw);
    const press = await createPublisher(gw, { commissionRates: { isp: '0.15', sms: '0.50', voice: '0.30' } });
    const games = await createPublisher(gw, { category: 'games', commissionRates: { isp: '0.1234' } });
    const alice = assertion(op, await provision(gw, op));
    const bob = assertion(op, await provision(gw, op));
    const a1 = (await buy(gw, press, alice, { amount: '3.33', channel: 'sms' })).id;
    await buy(gw, press, alice, { amount: '1.01', channel: 'isp' });
    const a3 = (await buy(gw, games, alice, { amount: '9.99', channel: 'isp' })).id;
    const b1 = (await buy(gw, press, bob, { amount: '7.77', channel: 'voice' })).id;
    await buy(gw, games, bob, { amount: '0.05', channel: 'isp' });
    await refund(gw, press.apiKey, a1, '1.00');
    await refund(gw, games.apiKey, a3);
    const runId = (await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id)).id;
    const frozen = await settlement(op, runId);

    // press: 3.33 sms (1.00 refunded: 2.33 × 0.50 = 1.165 → 1.16), 1.01 isp (0.1515 → 0.15), 7.77 voice (2.331 → 2.33).
    // games: 9.99 refunded in full (0), 0.05 isp (0.00617 → 0.01).
    expect(new Map(frozen.map((l) => [l.publisherId, l]))).toEqual(
      new Map([
        [
          press.id,
          {
            publisherId: press.id,
            gross: '12.11',
            commission: '3.64',
            refunds: '1.00',
            chargebacks: '0.00',
            pointsIssuedValue: '0.00',
            pointsRedeemedValue: '0.00',
            net: '7.47',
          },
        ],
        [
          games.id,
          {
            publisherId: games.id,
            gross: '10.04',
            commission: '0.01',
            refunds: '9.99',
            chargebacks: '0.00',
            pointsIssuedValue: '0.00',
            pointsRedeemedValue: '0.00',
            net: '0.04',
          },
        ],
      ]),
    );
    const positive = (await invoicesOf(op, runId))
      .flatMap((i) => i.lines.map((l) => new Decimal(l.amount)))
      .filter((a) => a.gt(0));
    expect(sum(frozen.map((l) => l.gross)).toFixed(2)).toBe(sum(positive).toFixed(2));

    const bobInvoice = (await invoicesOf(op, runId)).find((i) => i.lines.some((l) => l.purchaseId === b1));
    expect((await outcome(op, bobInvoice?.id as string, 'unpaid')).status).toBe(200);
    // v1.1: a done run's settlement never changes; the chargeback waits for the operator's next run.
    expect(await settlement(op, runId)).toEqual(frozen);

    const nextRunId = (await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id)).id;
    const next = await settlement(op, nextRunId);
    // The chargebacks take back the commission they carried: 2.33 for press, 0.01 for games; net goes negative.
    expect(new Map(next.map((l) => [l.publisherId, l]))).toEqual(
      new Map([
        [
          press.id,
          {
            publisherId: press.id,
            gross: '0.00',
            commission: '-2.33',
            refunds: '0.00',
            chargebacks: '7.77',
            pointsIssuedValue: '0.00',
            pointsRedeemedValue: '0.00',
            net: '-5.44',
          },
        ],
        [
          games.id,
          {
            publisherId: games.id,
            gross: '0.00',
            commission: '-0.01',
            refunds: '0.00',
            chargebacks: '0.05',
            pointsIssuedValue: '0.00',
            pointsRedeemedValue: '0.00',
            net: '-0.04',
          },
        ],
      ]),
    );
    [...frozen, ...next].forEach(expectAddsUp);
    // Over both runs, press keeps the v1 figures: commission 1.31, net 2.03.
    const pressRows = [...frozen, ...next].filter((l) => l.publisherId === press.id);
    expect(sum(pressRows.map((l) => l.commission)).toFixed(2)).toBe('1.31');
    expect(sum(pressRows.map((l) => l.net)).toFixed(2)).toBe('2.03');
  });

  it('When a run billed nothing, then its settlement is empty', async () => {
    const op = await createOperator(gw);
    const runId = (await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id)).id;
    expect(await settlement(op, runId)).toEqual([]);
  });
});

describe('Refunds on a bill that went unpaid', () => {
  it('When a purchase is refunded after its invoice was reported unpaid, then the next run does not credit that refund', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const ref = await provision(gw, op);
    const token = assertion(op, ref);
    const { id } = await buy(gw, publisher, token, { amount: '10.00' });
    const first = (await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id)).id;
    const [invoice] = await invoicesOf(op, first);
    expect((await outcome(op, invoice?.id as string, 'unpaid')).status).toBe(200);
    // Refunding what was charged back is refused; a refund before the outcome is the case below.
    expect(
      (
        await gw
          .api()
          .post(`/v1/purchases/${id}/refunds`)
          .set(bearer(publisher.apiKey))
          .set('Idempotency-Key', idemKey())
          .send({})
      ).status,
    ).toBe(409);

    const other = await buy(gw, publisher, token, { amount: '6.00' });
    const second = (await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id)).id;
    await refund(gw, publisher.apiKey, other.id, '1.00');
    const [secondInvoice] = await invoicesOf(op, second);
    expect((await outcome(op, secondInvoice?.id as string, 'unpaid')).status).toBe(200);
    const third = await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id);
    expect(third.invoiceCount).toBe(0);
    const refundRow = await gw.ctx.database.prisma.refund.findFirstOrThrow({ where: { purchaseId: other.id } });
    expect(refundRow.invoiceId).toBeNull();
    const charged = await purchaseRow(gw, other.id);
    // The publisher bears the refund and the rest as a chargeback: 1.00 + 5.00, the whole 6.00, no more.
    expect(charged.refundedAmount.toFixed(2)).toBe('1.00');
    expect(charged.chargedBackAmount.toFixed(2)).toBe('5.00');
  });
});
