import { describe, expect, it, vi } from 'vitest';
import { bearer, buy, createPurchase, idemKey } from './support/harness.js';
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
