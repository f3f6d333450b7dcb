import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import jwt from 'jsonwebtoken';
import { startCpuReading, type CpuPerPurchase } from '../lib/cpu-time.js';
import { vacuumTablesWithRows, withClient } from '../lib/database.js';
import type { AssertionCache, BenchWorld } from '../lib/fixtures.js';
import { progress, round } from '../lib/log.js';
import { openLoop, type OpenLoopResult } from '../lib/open-loop.js';
import type { Scale } from '../lib/scale.js';
import { meanYardstick, measureYardstick, yardstickPath, type Yardstick } from '../lib/yardstick.js';
import { chooser, OPEN_LOOP_PURCHASES_PER_S, saturate, startGateway, type SaturationRun } from './kiosque.js';

/** 1,000 confirmations of one subscriber at once, split across two gateways. */
export interface BurstRun {
  confirmations: number;
  amount: string;
  /** What the operator's weekly ceiling lets through: the exact outcome expected. */
  expectedConfirmed: number;
  byStatus: Record<string, number>;
  /** Answers other than 200 and 402, by status, error code and message: which limit refused them. */
  refusals: Record<string, number>;
  confirmedTotal: string;
  exact: boolean;
  /** From the first request sent to the last answer received. */
  elapsedMs: number;
}

export interface RatioResults {
  yardstickPath: string;
  before: Yardstick | null;
  after: Yardstick | null;
  saturation: SaturationRun;
  /** Where the machine's CPU went during the saturation: the ceiling the throughput ratio meets. */
  saturationCpu: CpuPerPurchase;
  openLoop: OpenLoopResult;
  burst: BurstRun;
  /** Purchases/s ÷ TPC-B-like tps (target ≥ 0.15); null when the yardstick is absent. */
  throughputRatio: number | null;
  /** Confirm p99 at 100/s ÷ a lone insert's p99 (target ≤ 5); null when the yardstick is absent. */
  latencyRatio: number | null;
}

const BURST = 1000;
const BURST_AMOUNT = '0.50';
/** op_bench_hot's weekly ceiling (bench/lib/fixtures.ts). */
const BURST_WEEKLY_CEILING_CENTS = 30_000;

/** An error body's code and message (API.md's error shape), or the start of whatever else came back. */
function refusalOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
    if (parsed.error?.code) return `${parsed.error.code}: ${parsed.error.message ?? ''}`;
  } catch {
    // Not JSON: the raw start says more than nothing.
  }
  return body.slice(0, 80);
}

export async function burst(databaseUrl: string, origins: string[], world: BenchWorld): Promise<BurstRun> {
  const ref = `burst-${Date.now()}`;
  const ids = await withClient(databaseUrl, async (client) => {
    await client.query(`INSERT INTO subscribers (id, operator_id, external_ref) VALUES ($1, 'op_bench_hot', $1)`, [
      ref,
    ]);
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO purchases (id, publisher_id, kind, amount, currency, description, channel, status, expires_at)
       SELECT $1 || '-' || g, $2, 'article', $3::numeric, 'EUR', 'burst', 'isp', 'pending', now() + interval '10 minutes'
       FROM generate_series(1, $4::int) g RETURNING id`,
      [ref, world.publisher.id, BURST_AMOUNT, BURST],
    );
    return rows.map((row) => row.id);
  });
  const token = jwt.sign({}, world.hotOperator.assertionSecret, {
    algorithm: 'HS256',
    issuer: world.hotOperator.id,
    subject: ref,
    audience: 'kiosque',
    expiresIn: 300,
  });
  const dispatcher = new Agent({ connections: BURST, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const byStatus: Record<string, number> = {};
  const refusals: Record<string, number> = {};
  const started = performance.now();
  try {
    await Promise.all(
      ids.map(async (id, i) => {
        const origin = origins[i % origins.length] as string;
        let status: string;
        try {
          const res = await fetch(`${origin}/v1/purchases/${id}/confirm`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}` },
            // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
            dispatcher,
          });
          const body = await res.text();
          status = String(res.status);
          if (res.status !== 200 && res.status !== 402) {
            const reason = `${status} ${refusalOf(body)}`;
            refusals[reason] = (refusals[reason] ?? 0) + 1;
          }
        } catch {
          status = 'error';
        }
        byStatus[status] = (byStatus[status] ?? 0) + 1;
      }),
    );
  } finally {
    await dispatcher.close();
  }
  const elapsedMs = round(performance.now() - started, 0);
  const confirmedTotal = await withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ total: string }>(
      `SELECT COALESCE(SUM(amount), 0)::text AS total FROM purchases WHERE subscriber_id = $1 AND status = 'confirmed'`,
      [ref],
    );
    return rows[0]?.total ?? '0';
  });
  const amountCents = Math.round(Number(BURST_AMOUNT) * 100);
  const expectedConfirmed = Math.min(BURST, Math.floor(BURST_WEEKLY_CEILING_CENTS / amountCents));
  const expectedTotal = ((expectedConfirmed * amountCents) / 100).toFixed(2);
  const exact =
    byStatus['200'] === expectedConfirmed &&
    byStatus['402'] === BURST - expectedConfirmed &&
    Number(confirmedTotal).toFixed(2) === expectedTotal;
  return {
    confirmations: BURST,
    amount: BURST_AMOUNT,
    expectedConfirmed,
    byStatus,
    refusals,
    confirmedTotal,
    exact,
    elapsedMs,
  };
}

/** The burst alone, `times` times over, on two fresh gateways each time (BENCH_ONLY=burst). */
export async function burstsAlone(
  databaseUrl: string,
  redisUrl: string,
  world: BenchWorld,
  times: number,
): Promise<BurstRun[]> {
  const runs: BurstRun[] = [];
  for (let i = 0; i < times; i++) {
    const gateways = [await startGateway(databaseUrl, redisUrl), await startGateway(databaseUrl, redisUrl)];
    try {
      progress(`Burst ${i + 1} of ${times}: ${BURST} confirmations of one subscriber at once across two gateways`);
      const run = await burst(
        databaseUrl,
        gateways.map((g) => g.origin),
        world,
      );
      progress(`  ${JSON.stringify(run.byStatus)} in ${run.elapsedMs} ms, exact: ${run.exact}`);
      for (const [reason, count] of Object.entries(run.refusals)) progress(`    ${count} × ${reason}`);
      if (!run.exact)
        for (const g of gateways) progress(`  gateway ${g.origin} said:\n${g.gateway.output().slice(-1200)}`);
      runs.push(run);
    } finally {
      await Promise.all(gateways.map((g) => g.gateway.stop()));
    }
  }
  return runs;
}

/**
 * Kiosque beside PostgreSQL's own pace, in one run: the yardstick just before
 * and just after, so a noisy machine moves both sides of each ratio alike.
 */
export async function ratios(
  scale: Scale,
  databaseUrl: string,
  redisUrl: string,
  world: BenchWorld,
  tokens: AssertionCache,
): Promise<RatioResults> {
  const path = yardstickPath();
  // Provisioning just wrote the world: its dirty pages would be flushed during the first yardstick's lone
  // inserts (the 04:56 run read a p99 of 10.6 ms there against 1.9 ms after), so they are flushed first.
  await withClient(databaseUrl, async (client) => {
    await vacuumTablesWithRows(client);
    await client.query('CHECKPOINT');
  });
  progress(`Ratios: yardstick before (${path})`);
  const before = await measureYardstick(path);
  if (!before) progress(`  ${path} is absent (set PG_YARDSTICK): the ratios are skipped, the figures kept`);
  else progress(`  TPC-B-like ${before.tpcbPerS} tps, lone insert p99 ${before.loneInsertP99Ms} ms`);

  const first = await startGateway(databaseUrl, redisUrl);
  let saturation: SaturationRun;
  let saturationCpu: CpuPerPurchase;
  let light: OpenLoopResult;
  let burstRun: BurstRun;
  try {
    await saturate(first.origin, world, tokens, scale, 0, 3, `ratio-warm-${Date.now()}`);
    progress(`Ratios: saturation, ${scale.connections} connections for ${scale.loadS} s`);
    const cpu = startCpuReading(first.gateway.pid, new URL(databaseUrl).pathname.slice(1));
    saturation = await saturate(first.origin, world, tokens, scale, 0, scale.loadS, `ratio-sat-${Date.now()}`);
    saturationCpu = cpu.per(saturation.confirmationsPerS * scale.loadS);
    progress(`  ${saturation.confirmationsPerS} purchases/s, ${saturation.failures} failures`);
    progress(`  CPU per purchase: ${cpuLine(saturationCpu)}`);
    await withClient(databaseUrl, async (client) => {
      await client.query('VACUUM ANALYZE purchases, subscriber_spending, idempotency_keys, outbox_events');
      await client.query('CHECKPOINT');
    });
    progress(`Ratios: open loop at ${OPEN_LOOP_PURCHASES_PER_S} purchases/s for ${scale.openLoopS} s`);
    light = await openLoop({
      origin: first.origin,
      purchasesPerS: OPEN_LOOP_PURCHASES_PER_S,
      durationS: scale.openLoopS,
      confirmDelayMs: 500,
      publisherAuth: `Bearer ${world.publisher.apiKey}`,
      confirmAuth: chooser(world, tokens, 0),
      keyPrefix: `ratio-open-${Date.now()}`,
    });
    progress(`  confirm p50 ${light.confirm.p50Ms} ms, p99 ${light.confirm.p99Ms} ms`);
    const second = await startGateway(databaseUrl, redisUrl);
    try {
      progress(`Ratios: ${BURST} confirmations of one subscriber at once across two gateways`);
      burstRun = await burst(databaseUrl, [first.origin, second.origin], world);
      progress(`  ${JSON.stringify(burstRun.byStatus)} in ${burstRun.elapsedMs} ms, exact: ${burstRun.exact}`);
      for (const [reason, count] of Object.entries(burstRun.refusals)) progress(`    ${count} × ${reason}`);
    } finally {
      await second.gateway.stop();
    }
  } finally {
    await first.gateway.stop();
  }

  progress('Ratios: yardstick after');
  const after = await measureYardstick(path);
  if (after) progress(`  TPC-B-like ${after.tpcbPerS} tps, lone insert p99 ${after.loneInsertP99Ms} ms`);
  const pace = before && after ? meanYardstick(before, after) : null;
  return {
    yardstickPath: path,
    before,
    after,
    saturation,
    saturationCpu,
    openLoop: light,
    burst: burstRun,
    throughputRatio: pace ? round(saturation.confirmationsPerS / pace.tpcbPerS, 3) : null,
    latencyRatio: pace ? round(light.confirm.p99Ms / pace.loneInsertP99Ms, 2) : null,
  };
}

function cpuLine(cpu: CpuPerPurchase): string {
  return `gateway ${cpu.gatewayMs} ms, PostgreSQL ${cpu.postgresMs} ms, load generator ${cpu.loadGeneratorMs} ms; machine ${cpu.machineMs} ms, ${Math.round(cpu.busyShare * 100)}% busy`;
}

export function ratiosMarkdown(r: RatioResults): string {
  const yard = (y: Yardstick | null) => (y ? `${y.tpcbPerS} tps, lone insert p99 ${y.loneInsertP99Ms} ms` : 'absent');
  const skipped = `skipped: no yardstick at ${r.yardstickPath} (set PG_YARDSTICK)`;
  return [
    '| figure | measured | target | met |',
    '| --- | --- | --- | --- |',
    `| yardstick before / after | ${yard(r.before)} / ${yard(r.after)} | | |`,
    `| purchases/s (8 connections) ÷ TPC-B-like tps | ${r.saturation.confirmationsPerS} purchases/s → ${r.throughputRatio ?? skipped} | ≥ 0.15 | ${r.throughputRatio === null ? '–' : r.throughputRatio >= 0.15 ? 'yes' : 'no'} |`,
    `| CPU per purchase during the saturation | ${cpuLine(r.saturationCpu)} | | |`,
    `| confirm p99 at 100/s ÷ lone insert p99 | p50 ${r.openLoop.confirm.p50Ms} ms, p99 ${r.openLoop.confirm.p99Ms} ms → ${r.latencyRatio ?? skipped} | ≤ 5 | ${r.latencyRatio === null ? '–' : r.latencyRatio <= 5 ? 'yes' : 'no'} |`,
    `| ${r.burst.confirmations} confirmations of ${r.burst.amount} of one subscriber, two gateways | ${JSON.stringify(r.burst.byStatus)}, confirmed ${r.burst.confirmedTotal}, ${r.burst.elapsedMs} ms | all 200/402, exact, ≤ 10 s | ${r.burst.exact && r.burst.elapsedMs <= 10_000 ? 'yes' : 'no'} |`,
    '',
  ].join('\n');
}
