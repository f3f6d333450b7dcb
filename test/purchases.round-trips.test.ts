import { describe, expect, it, vi } from 'vitest';
import { admin, bearer, buy, createPublisher, createPurchase, idemKey } from './support/harness.js';
import { purchaseRow, purchasesDescribed, setPublisherVatRate } from './support/rows.js';
import { useGateway, useOperator, usePublisher, useSubscriber } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw);
const publisher = usePublisher(gw);
const subscriber = useSubscriber(gw, operator);
const other = useSubscriber(gw, operator);

/** The names of the prepared statements the gateway's pool sends while `work` runs, in order. */
async function statementsSentDuring(work: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = vi.spyOn(gw.ctx.database.pool, 'query');
  try {
    await work();
    for (const [statement] of query.mock.calls as unknown as [unknown][]) {
      const { name } = (statement ?? {}) as { name?: string };
      if (name) sent.push(name);
    }
  } finally {
    query.mockRestore();
  }
  return sent;
}

describe('A confirmation without a key is two statements: the subscriber is found by the read itself', () => {
  it('When a subscriber confirms, then the pool sends the read that finds it by its ref and the claim, and no lookup of it before', async () => {
    // The operator's assertion secret is looked up once per process, then kept (src/http/auth.ts).
    expect((await buy(gw, publisher, other.token)).res.status).toBe(200);
    const { id } = await createPurchase(gw, publisher);
    const sent = await statementsSentDuring(async () => {
      const res = await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(subscriber.token));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, status: 'confirmed' });
    });
    expect(sent).toEqual(['purchase_load_for_confirmation', 'purchase_claim_confirmed']);
  });

  it('When the same subscriber confirms with a key, then it is found first, since the key is scoped to its id, and a retry replays', async () => {
    const { id } = await createPurchase(gw, publisher);
    const key = idemKey();
    const confirm = () =>
      gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(subscriber.token)).set('Idempotency-Key', key);
    let first: Awaited<ReturnType<typeof confirm>> | undefined;
    const sent = await statementsSentDuring(async () => {
      first = await confirm();
    });
    expect(first?.status).toBe(200);
    expect(sent).toContain('subscriber_find_by_ref');
    const again = await confirm();
    expect(again.status).toBe(200);
    expect(again.text).toBe(first?.text);
  });

  it('When another subscriber confirms a purchase already claimed, then it is told it does not exist', async () => {
    const { id, res } = await buy(gw, publisher, subscriber.token);
    expect(res.status).toBe(200);
    const stranger = await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(other.token));
    expect(stranger.status).toBe(404);
    expect(stranger.body.error.code).toBe('not_found');
  });
});

describe("A purchase's creation is one statement once the gateway has read its publisher", () => {
  const create = (apiKey: string, description = 'Round trips') =>
    gw
      .api()
      .post('/v1/purchases')
      .set(bearer(apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ amount: '1.00', currency: 'EUR', description, channel: 'isp' });

  it('When a publisher creates again, then the pool sends only the insert, which checks the publisher as it stands', async () => {
    expect((await create(publisher.apiKey)).status).toBe(201);
    let second: Awaited<ReturnType<typeof create>> | undefined;
    const sent = await statementsSentDuring(async () => {
      second = await create(publisher.apiKey);
    });
    expect(second?.status).toBe(201);
    expect(sent).toEqual(['purchase_insert_pending']);
  });

  it('When a kept publisher is suspended, then its next purchase is 403 with nothing written, and reinstated it sells at once', async () => {
    const seller = await createPublisher(gw);
    expect((await create(seller.apiKey)).status).toBe(201);
    expect((await gw.api().post(`/v1/admin/publishers/${seller.id}/suspend`).set(admin)).status).toBe(200);
    const description = `after suspension ${idemKey()}`;
    let refused: Awaited<ReturnType<typeof create>> | undefined;
    const sent = await statementsSentDuring(async () => {
      refused = await create(seller.apiKey, description);
    });
    // The kept copy was not suspended: the insert's own check found it was, then the publisher was read again.
    expect(sent).toEqual(['purchase_insert_pending', 'publisher_find_by_api_key_hash']);
    expect(refused?.status).toBe(403);
    expect(refused?.body.error.code).toBe('forbidden');
    expect(await purchasesDescribed(gw, description)).toBe(0);
    expect((await gw.api().post(`/v1/admin/publishers/${seller.id}/reinstate`).set(admin)).status).toBe(200);
    expect((await create(seller.apiKey)).status).toBe(201);
  });

  it("When a kept publisher's VAT rate changes in the database, then its next purchase gets the new rate, in the reply and the row", async () => {
    const seller = await createPublisher(gw, { category: 'press' });
    const first = await create(seller.apiKey);
    expect(first.status).toBe(201);
    expect(first.body.vatRate).toBe('0.021');
    await setPublisherVatRate(gw, seller.id, '0.2');
    const sent: string[] = [];
    let next: Awaited<ReturnType<typeof create>> | undefined;
    sent.push(
      ...(await statementsSentDuring(async () => {
        next = await create(seller.apiKey);
      })),
    );
    expect(next?.status).toBe(201);
    expect(next?.body.vatRate).toBe('0.20');
    expect((await purchaseRow(gw, next?.body.id as string)).vatRate?.toString()).toBe('0.2');
    // The insert found the rate changed and wrote nothing; the publisher was read again; the insert ran again.
    expect(sent).toEqual(['purchase_insert_pending', 'publisher_find_by_api_key_hash', 'purchase_insert_pending']);
  });
});
