import type pg from 'pg';
import type { BenchWorld } from '../lib/fixtures.js';
import { startApiOnly, startWorkerProcess, type GatewayEnv } from '../lib/gateway.js';
import { progress, round, sleep } from '../lib/log.js';
import { peakRssMiB } from '../lib/proc.js';

export interface BillingRun {
  purchases: number;
  subscribers: number;
  seconds: number;
  purchasesPerS: number;
  invoiceCount: number;
  /** VmHWM of a worker process started fresh for this run. */
  peakRssMiB: number;
  idleRssMiB: number;
}

export interface BillingResults {
  runs: BillingRun[];
  /** Peak RSS of the largest run over the smallest: 1 means memory does not grow with purchases. */
  rssGrowth: number;
}

/** Confirmed, uninvoiced purchases spread evenly over the subscribers, written in one statement. */
export async function generatePurchases(
  client: pg.Client,
  first: number,
  count: number,
  subscribers: number,
): Promise<void> {
  // Amounts are multiples of 0.20 so the 15% commission is exact to the cent.
  await client.query(
    `INSERT INTO purchases (id, publisher_id, subscriber_id, kind, amount, currency, description, channel, status,
                            created_at, expires_at, confirmed_at, commission_rate, commission_amount)
     SELECT 'pur_g' || g, 'pub_bench', 'sub_b' || (1 + g % $3::int), 'article', a, 'EUR', 'Generated article ' || (g % 100), 'isp', 'confirmed',
            now() - interval '2 hours', now() - interval '110 minutes', now() - interval '1 hour', 0.15, a * 0.15
     FROM generate_series($1::bigint, $1::bigint + $2::bigint - 1) AS g, LATERAL (SELECT 0.20 * (1 + g % 10) AS a) AS amount`,
    [first, count, subscribers],
  );
  await client.query('ANALYZE purchases');
}

interface RunStatus {
  id: string;
  status: string;
  invoiceCount: number;
}

async function billOnce(origin: string, operatorKey: string): Promise<{ seconds: number; run: RunStatus }> {
  const auth = { authorization: `Bearer ${operatorKey}` };
  const started = performance.now();
  const created = await fetch(`${origin}/v1/operator/billing-runs`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `bench-${Date.now()}` },
    body: '{}',
  });
  if (created.status !== 202) throw new Error(`billing run refused: ${created.status} ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };
  for (;;) {
    const run = (await (
      await fetch(`${origin}/v1/operator/billing-runs/${id}`, { headers: auth })
    ).json()) as RunStatus;
    if (run.status === 'done') return { seconds: round((performance.now() - started) / 1000, 2), run };
    if (run.status === 'failed') throw new Error(`billing run ${id} failed`);
    if (performance.now() - started > 600_000)
      throw new Error(`billing run ${id} still ${run.status} after 10 minutes`);
    await sleep(100);
  }
}

/**
 * Bills `sizes` purchases in turn (each size on top of already invoiced ones,
 * which a run must skip), each with a fresh worker process whose peak RSS is
 * read from /proc: comparing sizes shows whether memory grows with purchases.
 */
export async function billing(
  client: pg.Client,
  env: GatewayEnv,
  world: BenchWorld,
  sizes: number[],
): Promise<BillingResults> {
  const api = await startApiOnly(env);
  const runs: BillingRun[] = [];
  let next = 1;
  try {
    for (const size of sizes) {
      progress(
        `Billing: generating ${size.toLocaleString('en')} confirmed purchases for ${world.subscribers.toLocaleString('en')} subscribers in SQL`,
      );
      await generatePurchases(client, next, size, world.subscribers);
      next += size;
      const worker = startWorkerProcess(env);
      try {
        await sleep(4000);
        if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output()}`);
        const idleRssMiB = peakRssMiB(worker.pid);
        progress(`Billing: run over ${size.toLocaleString('en')} purchases (worker idle at ${idleRssMiB} MiB)`);
        const { seconds, run } = await billOnce(api.origin, world.operator.apiKey);
        const peak = peakRssMiB(worker.pid);
        runs.push({
          purchases: size,
          subscribers: world.subscribers,
          seconds,
          purchasesPerS: Math.round(size / seconds),
          invoiceCount: run.invoiceCount,
          peakRssMiB: peak,
          idleRssMiB,
        });
        progress(`  ${seconds} s, ${run.invoiceCount} invoices, worker peak RSS ${peak} MiB`);
      } finally {
        await worker.stop();
      }
    }
  } finally {
    await api.proc.stop();
  }
  const first = runs[0];
  const last = runs.at(-1);
  return { runs, rssGrowth: first && last ? round(last.peakRssMiB / first.peakRssMiB, 2) : Number.NaN };
}
