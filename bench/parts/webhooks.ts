import type pg from 'pg';
import { runAutocannon } from '../lib/autocannon.js';
import { startWorkerProcess, type GatewayEnv } from '../lib/gateway.js';
import { progress, round, sleep } from '../lib/log.js';
import { freePort, startNode, waitForHttp } from '../lib/proc.js';
import type { Scale } from '../lib/scale.js';

export interface WebhookResults {
  events: number;
  seconds: number;
  deliveriesPerS: number;
  receiverCeilingPerS: number;
}

const SAMPLE_PAYLOAD = JSON.stringify({
  id: 'evt_01KBENCH0000000000000000000',
  type: 'purchase.confirmed',
  createdAt: '2026-11-25T10:00:01.000Z',
  data: {
    id: 'pur_01KBENCH0000000000000000000',
    object: 'purchase',
    status: 'confirmed',
    amount: '0.01',
    currency: 'EUR',
  },
});

/**
 * Events put in the outbox at once (as a burst of confirmations would), then
 * timed until the worker process has delivered every one to a local receiver.
 */
export async function webhooks(client: pg.Client, env: GatewayEnv, scale: Scale): Promise<WebhookResults> {
  const port = await freePort();
  const receiverUrl = `http://127.0.0.1:${port}`;
  const receiver = startNode('bench/servers/webhook-receiver.ts', { PORT: String(port) });
  const worker = startWorkerProcess(env);
  try {
    await waitForHttp(`${receiverUrl}/healthz`, receiver);
    progress(`Webhooks: receiver ceiling, ${scale.connections} connections`);
    const ceiling = await runAutocannon({
      url: `${receiverUrl}/hook`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: SAMPLE_PAYLOAD,
      connections: scale.connections,
      duration: Math.max(3, Math.round(scale.loadS / 3)),
    });
    await client.query(`UPDATE publishers SET webhook_url = $1 WHERE id = 'pub_bench'`, [`${receiverUrl}/hook`]);
    await sleep(3000);
    if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output()}`);
    progress(
      `Webhooks: ${scale.webhookEvents.toLocaleString('en')} events into the outbox, delivered by the worker process`,
    );
    await client.query(
      `INSERT INTO outbox_events (id, publisher_id, type, payload, created_at, next_attempt_at)
       SELECT 'evt_g' || g, 'pub_bench', 'purchase.confirmed',
              jsonb_build_object('id', 'evt_g' || g, 'type', 'purchase.confirmed', 'createdAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                 'data', jsonb_build_object('id', 'pur_g' || g, 'object', 'purchase', 'status', 'confirmed', 'amount', '0.01', 'currency', 'EUR')),
              now(), now()
       FROM generate_series(1, $1::int) AS g`,
      [scale.webhookEvents],
    );
    const started = performance.now();
    for (;;) {
      const { rows } = await client.query<{ left: string }>(
        `SELECT count(*) AS left FROM outbox_events WHERE delivered_at IS NULL AND failed_at IS NULL`,
      );
      if (Number(rows[0]?.left) === 0) break;
      if (performance.now() - started > 300_000)
        throw new Error(`${rows[0]?.left} webhook events still undelivered after 5 minutes`);
      await sleep(100);
    }
    const seconds = round((performance.now() - started) / 1000, 2);
    const { rows } = await client.query<{ failed: string }>(
      `SELECT count(*) AS failed FROM outbox_events WHERE failed_at IS NOT NULL OR delivered_at IS NULL`,
    );
    if (Number(rows[0]?.failed) > 0) throw new Error(`${rows[0]?.failed} webhook events failed`);
    const result = {
      events: scale.webhookEvents,
      seconds,
      deliveriesPerS: Math.round(scale.webhookEvents / seconds),
      receiverCeilingPerS: round(ceiling.requests.average),
    };
    progress(`  ${result.deliveriesPerS} deliveries/s (receiver ceiling ${result.receiverCeilingPerS} req/s)`);
    return result;
  } finally {
    await worker.stop();
    await receiver.stop();
  }
}
