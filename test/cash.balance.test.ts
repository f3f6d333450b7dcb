import { describe, expect, it } from 'vitest';
import { useBillingHarness, refund } from './support/billing.js';
import { cashHarness } from './support/cash.js';
import { assertion, buy, createOperator, createPublisher, provision, unique } from './support/harness.js';
import { useGateway } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q-cash-balance') });
const cash = cashHarness(gw);
useBillingHarness(gw, { worker: true });

async function seller() {
  const op = await createOperator(gw);
  const publisher = await createPublisher(gw, { commissionRates: { isp: '0.15' } });
  const token = assertion(op, await provision(gw, op));
  return { op, publisher, token };
}

describe('Collected before available', () => {
  it('When a billed invoice comes back unpaid, then the publisher was never paid and its balance ends at zero, not -8.50', async () => {
    const { op, publisher, token } = await seller();
    await buy(gw, publisher, token, { amount: '10.00' });
    const run1 = await cash.run(op);
    expect(await cash.balance(publisher)).toEqual({
      pending: '8.50',
      available: '0.00',
      settled: '8.50',
      paidOut: '0.00',
    });
    const early = await cash.payout(publisher.id, '8.50');
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('invalid_state');

    const [invoice] = await cash.invoices(op, run1);
    await cash.outcome(op, invoice?.id as string, { status: 'unpaid' });
    // The chargeback waits for the operator's next settlement; none of it was ever available.
    expect((await cash.balance(publisher)).available).toBe('0.00');
    expect((await cash.payout(publisher.id, '0.01')).status).toBe(409);

    await cash.run(op);
    expect(await cash.balance(publisher)).toEqual({
      pending: '0.00',
      available: '0.00',
      settled: '0.00',
      paidOut: '0.00',
    });
    const ledger = await cash.ledger();
    expect(ledger.balanced).toBe(true);
    expect(ledger.balance(`publisher:${publisher.id}:held:${op.id}`)).toBe('0.00');
    expect(ledger.balance(`publisher:${publisher.id}:pending`)).toBe('0.00');
  });

  it('When the invoice is paid, then its net becomes available and can be paid out, and not a cent more', async () => {
    const { op, publisher, token } = await seller();
    await buy(gw, publisher, token, { amount: '10.00' });
    await buy(gw, publisher, token, { amount: '4.00' });
    const run1 = await cash.run(op);
    expect((await cash.balance(publisher)).pending).toBe('11.90');
    const [invoice] = await cash.invoices(op, run1);
    await cash.outcome(op, invoice?.id as string, { status: 'paid' });
    expect(await cash.balance(publisher)).toEqual({
      pending: '0.00',
      available: '11.90',
      settled: '11.90',
      paidOut: '0.00',
    });
    expect((await cash.payout(publisher.id, '11.91')).status).toBe(409);
    expect((await cash.payout(publisher.id, '11.90')).status).toBe(201);
    expect(await cash.balance(publisher)).toEqual({
      pending: '0.00',
      available: '0.00',
      settled: '11.90',
      paidOut: '11.90',
    });
  });

  it('When a collected sale is partly refunded before any payout, then available drops at once by the refund less its commission', async () => {
    const { op, publisher, token } = await seller();
    const sale = (await buy(gw, publisher, token, { amount: '10.00' })).id;
    const [invoice] = await cash.invoices(op, await cash.run(op));
    await cash.outcome(op, invoice?.id as string, { status: 'paid' });
    await refund(gw, publisher.apiKey, sale, '3.33');
    // 3.33 back, less the commission no longer earned: 1.50 − 0.15 × 6.67 (1.0005 → 1.00) = 0.50.
    expect(await cash.balance(publisher)).toEqual({
      pending: '2.83',
      available: '5.67',
      settled: '8.50',
      paidOut: '0.00',
    });
    expect((await cash.payout(publisher.id, '5.68')).status).toBe(409);
    await cash.run(op);
    expect(await cash.balance(publisher)).toEqual({
      pending: '0.00',
      available: '5.67',
      settled: '5.67',
      paidOut: '0.00',
    });
  });

  it('When part is collected, then the collected net becomes available and the rest never does', async () => {
    const { op, publisher, token } = await seller();
    await buy(gw, publisher, token, { amount: '10.00' });
    const [invoice] = await cash.invoices(op, await cash.run(op));
    await cash.outcome(op, invoice?.id as string, { status: 'partially_paid', collected: '6.00' });
    // 6.00 collected less 15% commission; the 4.00 charged back gives back its 0.60 of commission.
    expect((await cash.balance(publisher)).available).toBe('5.10');
    await cash.run(op);
    expect(await cash.balance(publisher)).toEqual({
      pending: '0.00',
      available: '5.10',
      settled: '5.10',
      paidOut: '0.00',
    });
  });

  it('When a paid-out sale is refunded, then available goes negative, is never paid out, and later collections recover it', async () => {
    const { op, publisher, token } = await seller();
    const sale = (await buy(gw, publisher, token, { amount: '10.00' })).id;
    const [first] = await cash.invoices(op, await cash.run(op));
    await cash.outcome(op, first?.id as string, { status: 'paid' });
    expect((await cash.payout(publisher.id, '8.50')).status).toBe(201);

    await refund(gw, publisher.apiKey, sale);
    // The refund lowers what is available as soon as it is recorded, before any run books it.
    expect(await cash.balance(publisher)).toEqual({
      pending: '8.50',
      available: '-8.50',
      settled: '8.50',
      paidOut: '8.50',
    });
    expect((await cash.payout(publisher.id, '0.01')).status).toBe(409);
    const run2 = await cash.run(op);
    expect(await cash.balance(publisher)).toEqual({
      pending: '0.00',
      available: '-8.50',
      settled: '0.00',
      paidOut: '8.50',
    });
    expect((await cash.payout(publisher.id, '0.01')).status).toBe(409);
    // The credit note of a paid invoice is money the operator gives back out of what it collected.
    const [creditNote] = await cash.invoices(op, run2);
    expect(creditNote).toMatchObject({ type: 'credit_note', total: '-10.00' });
    let ledger = await cash.ledger();
    expect(ledger.balance(`operator:${op.id}:receivable`)).toBe('0.00');
    expect(ledger.balance(`operator:${op.id}:collected`)).toBe('0.00');

    await buy(gw, publisher, token, { amount: '20.00' });
    const [third] = await cash.invoices(op, await cash.run(op));
    expect(await cash.balance(publisher)).toMatchObject({ pending: '17.00', available: '-8.50' });
    await cash.outcome(op, third?.id as string, { status: 'paid' });
    expect(await cash.balance(publisher)).toMatchObject({ pending: '0.00', available: '8.50' });
    ledger = await cash.ledger();
    expect(ledger.balanced).toBe(true);
    expect(ledger.balance(`operator:${op.id}:receivable`)).toBe('0.00');
    expect(ledger.balance(`operator:${op.id}:collected`)).toBe('20.00');
  });
});
