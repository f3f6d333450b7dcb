import { describe, expect, it } from 'vitest';
import { assertion, bearer, buy, createPublisher, createPurchase, idemKey, provision } from './support/harness.js';
import { purchaseRow, refundCount, idempotencyKeyCount } from './support/rows.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw);
const publisher = usePublisher(gw);

async function confirmed(amount: string) {
  const token = assertion(operator, await provision(gw, operator));
  const { id } = await buy(gw, publisher, token, { amount });
  return { id, token };
}

const refund = (id: string, body: object = {}, key = idemKey(), apiKey = publisher.apiKey) =>
  gw.api().post(`/v1/purchases/${id}/refunds`).set(bearer(apiKey)).set('Idempotency-Key', key).send(body);

describe('POST /v1/purchases/:id/refunds', () => {
  it('When part is refunded, then the purchase stays confirmed with its refundedAmount; the rest makes it refunded', async () => {
    const { id } = await confirmed('5.00');
    const part = await refund(id, { amount: '1.25' });
    expect(part.status).toBe(201);
    expect(part.body).toMatchObject({ purchaseId: id, amount: '1.25' });
    expect(part.body.purchase).toMatchObject({ status: 'confirmed', refundedAmount: '1.25' });
    const rest = await refund(id);
    expect(rest.status).toBe(201);
    expect(rest.body.amount).toBe('3.75');
    expect(rest.body.purchase).toMatchObject({ status: 'refunded', refundedAmount: '5.00' });
  });

  it('When more than what is left is asked, then it is 409 invalid_state and nothing is refunded', async () => {
    const { id } = await confirmed('2.00');
    await refund(id, { amount: '1.50' });
    const over = await refund(id, { amount: '0.51' });
    expect(over.status).toBe(409);
    expect(over.body.error).toMatchObject({ code: 'invalid_state', details: { refundable: '0.50' } });
    expect(await refundCount(gw, id)).toBe(1);
  });

  it('When a refund is retried with its key, then it is refunded once and the answer replayed', async () => {
    const { id } = await confirmed('3.00');
    const key = idemKey();
    const first = await refund(id, { amount: '1.00' }, key);
    const second = await refund(id, { amount: '1.00' }, key);
    expect(second.text).toBe(first.text);
    expect(await refundCount(gw, id)).toBe(1);
    const other = await refund(id, { amount: '2.00' }, key);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
  });

  it('When ten refunds of 1.00 race on a 3.00 purchase, then exactly three succeed', async () => {
    const { id } = await confirmed('3.00');
    const results = await Promise.all(Array.from({ length: 10 }, () => refund(id, { amount: '1.00' })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    const row = await purchaseRow(gw, id);
    expect(row.refundedAmount.toFixed(2)).toBe('3.00');
    expect(row.status).toBe('refunded');
  });

  it("When a pending purchase or another publisher's purchase is refunded, then it is 409 or 404", async () => {
    const pending = await createPurchase(gw, publisher);
    const notYet = await refund(pending.id);
    expect(notYet.status).toBe(409);
    expect(notYet.body.error.code).toBe('invalid_state');
    const { id } = await confirmed('1.00');
    const stranger = await createPublisher(gw);
    const foreign = await refund(id, {}, idemKey(), stranger.apiKey);
    expect(foreign.status).toBe(404);
  });

  it('When the refund amount is malformed, then it is 400 and no key is stored', async () => {
    const { id } = await confirmed('1.00');
    const key = idemKey();
    for (const amount of ['0.00', '1', 1, '-1.00', '0.001']) {
      const res = await refund(id, { amount }, key);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect(await idempotencyKeyCount(gw, key)).toBe(0);
    expect((await refund(id, { amount: '1.00' }, key)).status).toBe(201);
  });
});
