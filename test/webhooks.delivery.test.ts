import { afterEach, describe, expect, it } from 'vitest';
import { recordEvent } from '../src/domain/events.js';
import { claimDueEvents, dispatchDueWebhooks, type DispatchOptions } from '../src/domain/webhook-delivery.js';
import { sendWebhook } from '../src/domain/webhook-sender.js';
import { webhookHeaders } from '../src/domain/webhook-signing.js';
import { webhookAttempts } from '../src/observability/metrics.js';
import { bearer, createPublisher } from './support/harness.js';
import { answerWith, startWebhookReceiver, type Responder, type WebhookReceiver } from './support/webhook-receiver.js';
import { useGateway } from './support/world.js';
import { outboxEventRow } from './support/rows.js';

const HOUR_MS = 60 * 60 * 1000;

const gw = useGateway();
const receivers: WebhookReceiver[] = [];

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
async function receiver(respond?: Responder): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(respond);
  receivers.push(started);
  return started;
}

/**
 * Events are stamped in the far future and dispatched with a clock set there:
 * a worker running on the real clock (another test file's) never finds them due,
 * and each dispatch below only looks at its own publisher.
 */
let clockBaseMs = Date.parse('2091-01-01T00:00:00Z');
const aFutureMoment = () => new Date((clockBaseMs += 1000 * HOUR_MS));
const later = (t: Date, ms: number) => new Date(t.getTime() + ms);

async function recordAt(publisherId: string, at: Date): Promise<string> {
  return gw.ctx.database.transaction((sql) =>
    recordEvent(sql, publisherId, 'purchase.confirmed', { id: 'pur_test', amount: '2.88' }, at),
  );
}

function dispatch(publisherId: string, at: Date, options: Partial<DispatchOptions> = {}): Promise<number> {
  return dispatchDueWebhooks(gw.ctx.database.sql, {
    allowPrivateNetworks: true,
    now: () => at,
    publisherIds: [publisherId],
    ...options,
  });
}

const attemptsOf = (eventId: string) =>
  gw.ctx.database.prisma.webhookAttempt.findMany({ where: { eventId }, orderBy: { id: 'asc' } });

describe('webhook retries', () => {
  it('When the receiver answers 500 then 200, then it gets a retry after the first backoff and both attempts are recorded', async () => {
    const hook = await receiver(answerWith(500, 200));
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    const t0 = aFutureMoment();
    const eventId = await recordAt(publisher.id, t0);

    expect(await dispatch(publisher.id, t0)).toBe(1);
    expect(hook.received).toHaveLength(1);
    expect((await outboxEventRow(gw, eventId)).nextAttemptAt).toEqual(later(t0, 5000));

    expect(await dispatch(publisher.id, later(t0, 4999))).toBe(0);
    expect(await dispatch(publisher.id, later(t0, 5000))).toBe(1);

    expect(hook.received).toHaveLength(2);
    expect(hook.received[1]?.body).toBe(hook.received[0]?.body);
    expect(hook.received.map((r) => r.headers['webhook-id'])).toEqual([eventId, eventId]);
    expect((await attemptsOf(eventId)).map((a) => a.statusCode)).toEqual([500, 200]);
    expect((await outboxEventRow(gw, eventId)).deliveredAt).toEqual(later(t0, 5000));
  });

  it('When the receiver always fails, then the event is retried for more than 24 hours, then marked failed', async () => {
    const hook = await receiver(answerWith(503));
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    const t0 = aFutureMoment();
    const eventId = await recordAt(publisher.id, t0);

    let at = t0;
    for (let round = 0; round < 20; round++) {
      await dispatch(publisher.id, at);
      const row = await outboxEventRow(gw, eventId);
      if (row.failedAt) break;
      at = row.nextAttemptAt;
    }

    const row = await outboxEventRow(gw, eventId);
    const attempts = await attemptsOf(eventId);
    expect(row.failedAt).not.toBeNull();
    expect(row.deliveredAt).toBeNull();
    expect(attempts).toHaveLength(8);
    expect(hook.received).toHaveLength(8);
    const spanMs = (attempts.at(-1)?.attemptedAt.getTime() ?? 0) - (attempts[0]?.attemptedAt.getTime() ?? 0);
    expect(spanMs).toBeGreaterThanOrEqual(24 * HOUR_MS);
    expect(await dispatch(publisher.id, later(at, 100 * HOUR_MS))).toBe(0);
  });

  it('When the receiver redirects, then the redirect is not followed and the attempt counts as failed', async () => {
    const target = await receiver();
    const hook = await receiver((_req, _n, res) => {
      res.writeHead(302, { location: target.url });
      res.end();
    });
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    const t0 = aFutureMoment();
    const eventId = await recordAt(publisher.id, t0);

    await dispatch(publisher.id, t0);

    expect(hook.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
    expect((await attemptsOf(eventId)).map((a) => a.statusCode)).toEqual([302]);
    expect((await outboxEventRow(gw, eventId)).deliveredAt).toBeNull();
  });

  it('When the receiver never answers, then the call is cut at the timeout and recorded as an error', async () => {
    const hook = await receiver(() => undefined);
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    const t0 = aFutureMoment();
    const eventId = await recordAt(publisher.id, t0);

    await dispatch(publisher.id, t0, { timeoutMs: 300 });

    const [attempt] = await attemptsOf(eventId);
    expect(attempt?.statusCode).toBeNull();
    expect(attempt?.error).toMatch(/timed out/);
    expect((await outboxEventRow(gw, eventId)).nextAttemptAt).toEqual(later(t0, 5000));
  });
});

describe('webhooks never reach private addresses unless allowed', () => {
  it('When private networks are not allowed, then an event whose URL is on 127.0.0.1 is never sent and the refusal is recorded', async () => {
    const hook = await receiver();
    const httpPublisher = await createPublisher(gw, { webhookUrl: hook.url });
    const httpsPublisher = await createPublisher(gw, { webhookUrl: hook.url.replace('http:', 'https:') });
    const t0 = aFutureMoment();
    const httpEvent = await recordAt(httpPublisher.id, t0);
    const httpsEvent = await recordAt(httpsPublisher.id, t0);

    await dispatch(httpPublisher.id, t0, { allowPrivateNetworks: false });
    await dispatch(httpsPublisher.id, t0, { allowPrivateNetworks: false });

    expect(hook.received).toHaveLength(0);
    const [httpAttempt] = await attemptsOf(httpEvent);
    const [httpsAttempt] = await attemptsOf(httpsEvent);
    expect(httpAttempt?.error).toMatch(/^refused: webhookUrl must use https/);
    expect(httpsAttempt?.error).toMatch(/^refused: webhookUrl host is or resolves to a non-public address/);
    expect((await outboxEventRow(gw, httpsEvent)).deliveredAt).toBeNull();
  });

  it('When a host name resolves to loopback at connect time, then the sender refuses it without connecting', async () => {
    const hook = await receiver();
    const port = new URL(hook.url).port;
    const body = '{"id":"evt_x"}';
    const headers = webhookHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'evt_x', body, new Date());

    const refused = await sendWebhook(`http://localhost:${port}/hooks`, body, headers, {
      timeoutMs: 2000,
      allowPrivateNetworks: false,
    });
    expect(refused).toMatchObject({
      error: expect.stringMatching(/^refused: localhost resolves to the non-public address/),
    });
    expect(hook.received).toHaveLength(0);

    const allowed = await sendWebhook(`http://localhost:${port}/hooks`, body, headers, {
      timeoutMs: 2000,
      allowPrivateNetworks: true,
    });
    expect(allowed).toMatchObject({ statusCode: 200 });
    expect(hook.received).toHaveLength(1);
  });
});

describe('at-least-once delivery from the PostgreSQL outbox', () => {
  it('When a publisher has no webhookUrl, then its event is kept as skipped: no attempt, no failure, no retry, nothing counted', async () => {
    const publisher = await createPublisher(gw);
    const t0 = aFutureMoment();
    const eventId = await recordAt(publisher.id, t0);
    const attemptsCounted = async () => (await webhookAttempts.get()).values.reduce((sum, v) => sum + v.value, 0);
    const countedBefore = await attemptsCounted();

    expect(await dispatch(publisher.id, t0)).toBe(1);

    const row = await outboxEventRow(gw, eventId);
    expect(row.skippedAt).toEqual(t0);
    expect(row.failedAt).toBeNull();
    expect(await attemptsOf(eventId)).toEqual([]);
    expect(await attemptsCounted()).toBe(countedBefore);
    expect(await dispatch(publisher.id, later(t0, 100 * HOUR_MS))).toBe(0);

    const listed = await gw.api().get('/v1/webhooks/events').set(bearer(publisher.apiKey));
    expect(listed.body.data).toEqual([
      expect.objectContaining({
        id: eventId,
        status: 'skipped',
        skippedAt: t0.toISOString(),
        failedAt: null,
        attempts: [],
      }),
    ]);
    const failed = await gw.api().get('/v1/webhooks/events').query({ status: 'failed' }).set(bearer(publisher.apiKey));
    expect(failed.body.data).toEqual([]);
  });

  it('When a worker claims an event and dies before sending, then the event is sent once its lease runs out', async () => {
    const hook = await receiver();
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    const t0 = aFutureMoment();
    const eventId = await recordAt(publisher.id, t0);

    const claimed = await claimDueEvents(gw.ctx.database.sql, {
      now: t0,
      limit: 10,
      leaseMs: 60_000,
      publisherIds: [publisher.id],
    });
    expect(claimed.map((e) => e.id)).toEqual([eventId]);

    expect(await dispatch(publisher.id, later(t0, 59_999))).toBe(0);
    expect(hook.received).toHaveLength(0);
    expect(await dispatch(publisher.id, later(t0, 60_000))).toBe(1);

    expect(hook.received.map((r) => r.headers['webhook-id'])).toEqual([eventId]);
    expect((await outboxEventRow(gw, eventId)).deliveredAt).not.toBeNull();
  });

  it('When several dispatchers run at once, then each event is sent exactly once', async () => {
    const hook = await receiver((_req, _n, res) => {
      setTimeout(() => res.end(), 10);
    });
    const publisher = await createPublisher(gw, { webhookUrl: hook.url });
    const t0 = aFutureMoment();
    const eventIds: string[] = [];
    for (let i = 0; i < 30; i++) eventIds.push(await recordAt(publisher.id, t0));

    const drain = async () => {
      while ((await dispatch(publisher.id, t0, { batchSize: 3 })) > 0);
    };
    await Promise.all([drain(), drain(), drain(), drain()]);

    const sentIds = hook.received.map((r) => r.headers['webhook-id']);
    expect([...sentIds].sort()).toEqual([...eventIds].sort());
    expect(await gw.ctx.database.prisma.webhookAttempt.count({ where: { eventId: { in: eventIds } } })).toBe(30);
    expect(await gw.ctx.database.prisma.outboxEvent.count({ where: { id: { in: eventIds }, deliveredAt: null } })).toBe(
      0,
    );
  });
});
