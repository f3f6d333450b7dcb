import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../src/domain/events.js';
import { dispatchDueWebhooks } from '../src/domain/webhook-delivery.js';
import { bearer, createOperator, createPublisher, type PublisherFixture } from './support/harness.js';
import { answerWith, startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';
import { useGateway } from './support/world.js';

const gw = useGateway();
let hook: WebhookReceiver;
let publisher: PublisherFixture;
let other: PublisherFixture;
const eventIds: string[] = [];
// Far-future stamps keep these events out of reach of any worker running on the real clock.
const t0 = new Date('2093-03-01T00:00:00Z');

beforeAll(async () => {
  hook = await startWebhookReceiver(answerWith(500, 200));
  publisher = await createPublisher(gw, { webhookUrl: hook.url });
  other = await createPublisher(gw, { webhookUrl: hook.url });
  for (let i = 0; i < 3; i++) {
    const at = new Date(t0.getTime() + i);
    eventIds.push(
      await gw.ctx.database.transaction((sql) =>
        recordEvent(sql, publisher.id, 'purchase.confirmed', { id: `pur_${i}` }, at),
      ),
    );
  }
  await gw.ctx.database.transaction((sql) => recordEvent(sql, other.id, 'purchase.confirmed', { id: 'pur_other' }, t0));
  await dispatchDueWebhooks(gw.ctx.database.sql, {
    allowPrivateNetworks: true,
    now: () => new Date(t0.getTime() + 10),
    publisherIds: [publisher.id],
    batchSize: 1,
  });
  await dispatchDueWebhooks(gw.ctx.database.sql, {
    allowPrivateNetworks: true,
    now: () => new Date(t0.getTime() + 10),
    publisherIds: [publisher.id],
    batchSize: 1,
  });
});
afterAll(() => hook.close());

describe('GET /v1/webhooks/events', () => {
  it('When a publisher lists its events, then it sees only its own, newest first, with each attempt', async () => {
    const res = await gw.api().get('/v1/webhooks/events').set(bearer(publisher.apiKey));
    expect(res.status).toBe(200);
    expect(res.body.data.map((e: { id: string }) => e.id)).toEqual([...eventIds].reverse());
    const [first] = res.body.data.filter((e: { id: string }) => e.id === eventIds[0]);
    expect(first).toMatchObject({
      type: 'purchase.confirmed',
      status: 'pending',
      payload: { id: eventIds[0], data: { id: 'pur_0' } },
    });
    expect(first.attempts).toEqual([expect.objectContaining({ statusCode: 500, error: null })]);
    expect(res.body.nextCursor).toBeNull();
  });

  it('When a publisher filters by status and pages, then it gets the matching events one page at a time', async () => {
    const delivered = await gw
      .api()
      .get('/v1/webhooks/events')
      .query({ status: 'delivered' })
      .set(bearer(publisher.apiKey));
    expect(delivered.body.data.map((e: { id: string }) => e.id)).toEqual([eventIds[1]]);
    const firstPage = await gw.api().get('/v1/webhooks/events').query({ limit: 2 }).set(bearer(publisher.apiKey));
    expect(firstPage.body.data).toHaveLength(2);
    const secondPage = await gw
      .api()
      .get('/v1/webhooks/events')
      .query({ limit: 2, cursor: firstPage.body.nextCursor })
      .set(bearer(publisher.apiKey));
    expect(secondPage.body.data.map((e: { id: string }) => e.id)).toEqual([eventIds[0]]);
    expect(secondPage.body.nextCursor).toBeNull();
  });

  it('When the query is bad or the caller is not a publisher, then it is 400, 401 or 403', async () => {
    const bad = await gw
      .api()
      .get('/v1/webhooks/events')
      .query({ status: 'lost', limit: 500 })
      .set(bearer(publisher.apiKey));
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details.fields).sort()).toEqual(['limit', 'status']);
    expect((await gw.api().get('/v1/webhooks/events')).status).toBe(401);
    const operator = await createOperator(gw);
    expect((await gw.api().get('/v1/webhooks/events').set(bearer(operator.apiKey))).status).toBe(403);
  });
});
