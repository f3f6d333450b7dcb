import { afterAll, beforeAll, expect } from 'vitest';
import { createBillingQueue, enqueueBillingRun, type BillingQueue } from '../../src/queue/billing.js';
import { createLogger } from '../../src/logger.js';
import type { Connection } from '../../src/store/database.js';
import { startBillingWorker, type BillingWorkerSettings } from '../../workers/billing.js';
import type { RunningWorker } from '../../workers/worker.js';
import { bearer, idemKey, type OperatorFixture, type TestGateway } from './harness.js';

export const TEST_BILLING_SETTINGS: BillingWorkerSettings = {
  concurrency: 2,
  parallelism: 2,
  chunkPayers: 2_000,
  lockDurationMs: 5_000,
  sweepIntervalMs: 60_000,
  chunkSweepIntervalMs: 60_000,
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 10_000,
};

export interface BillingHarness {
  queue: BillingQueue;
  startWorker(settings?: Partial<BillingWorkerSettings>): Promise<RunningWorker>;
  close(): Promise<void>;
}

/**
 * Wires a test gateway to a billing queue under its own prefix (the gateway's
 * config.queuePrefix, which each test file makes unique), and starts workers
 * on it in this process on demand.
 */
export function billingHarness(gw: TestGateway): BillingHarness {
  const { config, database } = gw.ctx;
  const queue = createBillingQueue(config.redisUrl, config.queuePrefix);
  gw.ctx.enqueueBillingRun = (id) => enqueueBillingRun(queue, id);
  const workers: RunningWorker[] = [];
  return {
    queue,
    async startWorker(settings = {}) {
      const worker = await startBillingWorker(
        { config, database, logger: createLogger('silent') },
        { ...TEST_BILLING_SETTINGS, ...settings },
      );
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}

/**
 * This file's billing harness, declared beside its gateway (test/support/world.ts):
 * closed after the file's last test, before the gateway; with `worker: true`,
 * one worker started before the first test.
 */
export function useBillingHarness(gw: TestGateway, options: { worker?: boolean } = {}): BillingHarness {
  const billing = billingHarness(gw);
  if (options.worker) {
    beforeAll(async () => {
      await billing.startWorker();
    });
  }
  afterAll(() => billing.close());
  return billing;
}

export async function postBillingRun(gw: TestGateway, operator: OperatorFixture, body: Record<string, unknown> = {}) {
  return gw
    .api()
    .post('/v1/operator/billing-runs')
    .set(bearer(operator.apiKey))
    .set('Idempotency-Key', idemKey())
    .send(body);
}

/** Polls the run through the API until it is done (or failed), for at most `timeoutMs`. */
export async function waitForRun(gw: TestGateway, operator: OperatorFixture, id: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await gw.api().get(`/v1/operator/billing-runs/${id}`).set(bearer(operator.apiKey));
    expect(res.status).toBe(200);
    if (res.body.status === 'done' || res.body.status === 'failed')
      return res.body as { id: string; status: string; invoiceCount: number; total: string };
    if (Date.now() > deadline) throw new Error(`billing run ${id} still ${res.body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The exactly-once check, straight from PostgreSQL: each purchase is named by
 * one charge line (lines are stored summed, with the ids of what they sum), on
 * the invoice its invoice_id names, and each refund by one refund line on the
 * document its invoice_id names.
 */
export async function expectEachOnExactlyOneInvoice(
  db: Connection['prisma'],
  purchaseIds: readonly string[],
  refundIds: readonly string[] = [],
) {
  const purchases = await db.$queryRaw<
    { id: string; invoice_id: string | null; charge_lines: number; on_invoice: number }[]
  >`
    WITH named AS (
      SELECT l.invoice_id, x.id FROM invoice_lines l CROSS JOIN LATERAL unnest(l.purchase_ids) AS x(id)
      WHERE l.kind = 'charge' AND l.purchase_ids && ${[...purchaseIds]}::text[]
    )
    SELECT p.id, p.invoice_id, count(n.id)::int AS charge_lines,
           (count(n.id) FILTER (WHERE n.invoice_id = p.invoice_id))::int AS on_invoice
    FROM purchases p LEFT JOIN named n ON n.id = p.id
    WHERE p.id = ANY(${[...purchaseIds]})
    GROUP BY p.id`;
  expect(purchases).toHaveLength(purchaseIds.length);
  for (const p of purchases)
    expect({ id: p.id, charged: p.charge_lines, onItsInvoice: p.on_invoice }).toEqual({
      id: p.id,
      charged: 1,
      onItsInvoice: 1,
    });
  if (refundIds.length === 0) return;
  const refunds = await db.$queryRaw<{ id: string; lines: number; on_invoice: number }[]>`
    WITH named AS (
      SELECT l.invoice_id, x.id, x.purchase_id
      FROM invoice_lines l CROSS JOIN LATERAL unnest(l.refund_ids, l.purchase_ids) AS x(id, purchase_id)
      WHERE l.kind = 'refund' AND l.refund_ids && ${[...refundIds]}::text[]
    )
    SELECT r.id, count(n.id)::int AS lines,
           (count(n.id) FILTER (WHERE n.invoice_id = r.invoice_id AND n.purchase_id = r.purchase_id))::int AS on_invoice
    FROM refunds r LEFT JOIN named n ON n.id = r.id
    WHERE r.id = ANY(${[...refundIds]})
    GROUP BY r.id`;
  expect(refunds).toHaveLength(refundIds.length);
  for (const r of refunds)
    expect({ id: r.id, lines: r.lines, onItsInvoice: r.on_invoice }).toEqual({ id: r.id, lines: 1, onItsInvoice: 1 });
}

export async function refund(
  gw: TestGateway,
  publisherApiKey: string,
  purchaseId: string,
  amount?: string,
): Promise<string> {
  const res = await gw
    .api()
    .post(`/v1/purchases/${purchaseId}/refunds`)
    .set(bearer(publisherApiKey))
    .set('Idempotency-Key', idemKey())
    .send(amount ? { amount } : {});
  if (res.status !== 201) throw new Error(`refund failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}
