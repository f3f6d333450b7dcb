import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullConnection } from '../../src/queue/connection.js';
import { DISPATCH_SCHEDULER_ID, WEBHOOK_QUEUE } from '../../src/queue/webhooks.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import type { WorkerProcess } from '../support/worker-process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { expectInvariants, expectNoServerErrors } from './support/invariants.js';
import { startFaultStack, type FaultStack } from './support/stack.js';
import { confirmedCount, makeFixtures, runLoad, TrafficLog, waitUntil } from './support/traffic.js';

/** The bound: schedules and queued work recovered within 2 s of Redis being back, as the worker logs it. */
const RECOVERY_BOUND_MS = 2_000;
/** Seen from outside (the test's own probes, on a shared, loaded machine), a generous bound on the same. */
const OBSERVED_BOUND_MS = 10_000;
const OUTAGE_MS = 4_000;

let stack: FaultStack;
let gateway: GatewayProcess;
let hooks: WebhookReceiver;
let worker: WorkerProcess;

beforeAll(async () => {
  stack = await startFaultStack('redis');
  hooks = await startWebhookReceiver();
  gateway = await stack.gateway();
  worker = await stack.workers();
});
afterAll(async () => {
  await hooks?.close();
  await stack?.close();
});

const pendingEvents = async () =>
  Number(
    (await stack.sql.query<{ n: string }>('SELECT count(*) AS n FROM outbox_events WHERE delivered_at IS NULL')).rows[0]
      ?.n,
  );
const runStatus = async (id: string) =>
  (await stack.sql.query<{ status: string }>('SELECT status FROM billing_runs WHERE id = $1', [id])).rows[0]?.status;

describe('Redis killed, then restarted empty, under load', () => {
  it('When Redis comes back empty, then schedules, webhook deliveries and a billing run queued meanwhile resume within 2 s, and nothing is lost or doubled', async () => {
    const log = new TrafficLog('redis-restart');
    await log.open();
    const fixtures = await makeFixtures(log, gateway.url, 10, { webhookUrl: hooks.url });
    let running = true;
    const load = runLoad(log, fixtures, {
      targets: () => [gateway.url],
      ratePerSecond: 1.5,
      running: () => running,
      retryForMs: 10_000,
    });
    await waitUntil(
      () => confirmedCount(log) >= 5 && hooks.received.length >= 3,
      120_000,
      'purchases confirmed and webhooks delivered',
    );

    await stack.redis.kill();
    const killedAt = Date.now();
    // Purchases go on without Redis; their webhooks wait in PostgreSQL's outbox.
    await waitUntil(
      () => log.exchanges.some((e) => e.startedAt > killedAt && e.status === 200 && e.path.endsWith('/confirm')),
      60_000,
      'a purchase confirmed while Redis is down',
    );
    const run = await log.send(gateway.url, 'POST', '/v1/operator/billing-runs', {
      token: fixtures.operator.apiKey,
      key: 'run-during-outage',
      body: {},
    });
    expect(run.status).toBe(202);
    const runId = (run.body as { id: string }).id;
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + OUTAGE_MS - Date.now())));

    // The fault happened: deliveries stopped and the run could not reach a queue.
    const deliveredBeforeRestart = hooks.received.length;
    expect(await pendingEvents()).toBeGreaterThan(0);
    expect(await runStatus(runId)).toBe('queued');

    await stack.redis.restart();
    const backAt = Date.now();
    const probe = new Queue(WEBHOOK_QUEUE, { connection: bullConnection(stack.redis.url), prefix: stack.queuePrefix });
    try {
      const scheduledAt = await waitUntil(
        async () => (await probe.getJobScheduler(DISPATCH_SCHEDULER_ID)) !== undefined,
        30_000,
        'webhook schedule back',
      );
      const deliveringAt = await waitUntil(
        () => hooks.received.length > deliveredBeforeRestart,
        30_000,
        'webhook deliveries resumed',
      );
      const billingAt = await waitUntil(
        async () => (await runStatus(runId)) !== 'queued',
        30_000,
        'billing run taken up',
      );
      const recoveredAt = (queue: string) =>
        worker.lines
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { time: number; queue?: string; msg: string })
          .find((entry) => entry.queue === queue && entry.time >= backAt && /Redis is back/.test(entry.msg))?.time;
      expect((recoveredAt('webhooks') ?? Infinity) - backAt, 'ms until the worker restored the schedule').toBeLessThan(
        RECOVERY_BOUND_MS,
      );
      expect(
        (recoveredAt('billing-runs') ?? Infinity) - backAt,
        'ms until the worker re-enqueued the run',
      ).toBeLessThan(RECOVERY_BOUND_MS);
      expect(scheduledAt - backAt, 'ms until the webhook schedule was seen').toBeLessThan(OBSERVED_BOUND_MS);
      expect(deliveringAt - backAt, 'ms until deliveries resumed').toBeLessThan(OBSERVED_BOUND_MS);
      expect(billingAt - backAt, 'ms until the queued billing run was taken up').toBeLessThan(OBSERVED_BOUND_MS);
      running = false;
      await load;
      await waitUntil(async () => (await pendingEvents()) === 0, 60_000, 'every webhook delivered');
      await waitUntil(async () => (await runStatus(runId)) === 'done', 60_000, 'billing run done');
    } finally {
      running = false;
      await probe.close();
    }

    // Each confirmed purchase's webhook arrived (at least once), whatever Redis lost.
    const confirmedIds = new Set(
      log.exchanges
        .filter((e) => e.status === 200 && e.path.endsWith('/confirm'))
        .map((e) => (e.body as { id: string }).id),
    );
    const delivered = new Set(
      hooks.received
        .map((h) => JSON.parse(h.body) as { type: string; data: { id: string } })
        .filter((b) => b.type === 'purchase.confirmed')
        .map((b) => b.data.id),
    );
    expect([...confirmedIds].filter((id) => !delivered.has(id))).toEqual([]);

    expectNoServerErrors(log);
    await expectInvariants(stack.sql, log, fixtures, gateway.url);
  });
});
