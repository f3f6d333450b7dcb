import { runAutocannon } from '../lib/autocannon.js';
import { withClient } from '../lib/database.js';
import { grantPoints, type AssertionCache, type BenchWorld } from '../lib/fixtures.js';
import { progress, round } from '../lib/log.js';
import { pausesDuring, type GatewayPauses } from '../lib/gateway-pauses.js';
import { openLoop, type OpenLoopResult } from '../lib/open-loop.js';
import { freePort, startNode, waitForHttp } from '../lib/proc.js';
import type { Scale } from '../lib/scale.js';

export interface SaturationRun {
  hotShare: number;
  /** Purchases created and confirmed per second (declines excluded). */
  confirmationsPerS: number;
  declinesPerS: number;
  failures: number;
  requestP50Ms: number;
  requestP99Ms: number;
}

export interface KiosqueResults {
  spread: SaturationRun;
  /** The same load spread over two gateway processes, as SCALING.md runs them: one per core. */
  spreadTwoGateways: SaturationRun;
  hot: SaturationRun;
  openLoopSpread: LightRun;
  openLoopHot: LightRun;
  /** Spread, each confirmation paying its 0.01 with one Kiosque Point: the points path's cost over a plain one. */
  openLoopPoints: LightRun;
}

/** An open loop, with what held the gateway's event loop up meanwhile. */
export type LightRun = OpenLoopResult & { gatewayPauses: GatewayPauses };

const BODY = JSON.stringify({ amount: '0.01', currency: 'EUR', description: 'Benchmark article', channel: 'isp' });
export const OPEN_LOOP_PURCHASES_PER_S = 100;

/** Subscriber for the next confirmation: the hot one `hotShare` of the time, else uniform over all. */
export function chooser(world: BenchWorld, tokens: AssertionCache, hotShare: number) {
  return () =>
    `Bearer ${tokens.forSubscriber(Math.random() < hotShare ? 'hot' : 1 + Math.floor(Math.random() * world.subscribers))}`;
}

function confirmHeaders(authorization: string, body: string | undefined): Record<string, string> {
  return body ? { authorization, 'content-type': 'application/json' } : { authorization };
}

export async function saturate(
  origin: string,
  world: BenchWorld,
  tokens: AssertionCache,
  scale: Scale,
  hotShare: number,
  durationS: number,
  runId: string,
  confirmBody?: string,
  connections = scale.connections,
): Promise<SaturationRun> {
  let sequence = 0;
  let confirmed = 0;
  let declined = 0;
  let failures = 0;
  const confirmAuth = chooser(world, tokens, hotShare);
  const result = await runAutocannon({
    url: origin,
    connections,
    duration: durationS,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/v1/purchases',
        setupRequest: (request) => ({
          ...request,
          headers: {
            authorization: `Bearer ${world.publisher.apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': `${runId}-${++sequence}`,
          },
          body: BODY,
        }),
        onResponse: (status, body, context) => {
          if (status === 201) context.purchaseId = (JSON.parse(body) as { id: string }).id;
          else {
            context.purchaseId = undefined;
            failures += 1;
          }
        },
      },
      {
        method: 'POST',
        setupRequest: (request, context) =>
          typeof context.purchaseId === 'string'
            ? {
                ...request,
                path: `/v1/purchases/${context.purchaseId}/confirm`,
                headers: confirmHeaders(confirmAuth(), confirmBody),
                ...(confirmBody ? { body: confirmBody } : {}),
              }
            : null,
        onResponse: (status) => {
          if (status === 200) confirmed += 1;
          else if (status === 402) declined += 1;
          else failures += 1;
        },
      },
    ],
  });
  return {
    hotShare,
    confirmationsPerS: round(confirmed / durationS),
    declinesPerS: round(declined / durationS),
    failures: failures + result.errors + result.timeouts,
    requestP50Ms: result.latency.p50,
    requestP99Ms: result.latency.p99,
  };
}

/**
 * Saturation with the connections shared among several gateways, as a load
 * balancer would: throughput and failures add up, latencies are the worst
 * gateway's.
 */
async function saturateAcross(
  origins: string[],
  world: BenchWorld,
  tokens: AssertionCache,
  scale: Scale,
  durationS: number,
  runId: string,
): Promise<SaturationRun> {
  const connections = Math.max(1, Math.round(scale.connections / origins.length));
  const runs = await Promise.all(
    origins.map((origin, i) =>
      saturate(origin, world, tokens, scale, 0, durationS, `${runId}-g${i}`, undefined, connections),
    ),
  );
  return {
    hotShare: 0,
    confirmationsPerS: round(runs.reduce((sum, run) => sum + run.confirmationsPerS, 0)),
    declinesPerS: round(runs.reduce((sum, run) => sum + run.declinesPerS, 0)),
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
    requestP50Ms: Math.max(...runs.map((run) => run.requestP50Ms)),
    requestP99Ms: Math.max(...runs.map((run) => run.requestP99Ms)),
  };
}

/**
 * The gateway as `npm start` runs it, in its own process, limiter on (with a
 * limit nobody reaches, so Redis is still called on every request), workers off.
 */
export async function startGateway(databaseUrl: string, redisUrl: string, extraEnv: Record<string, string> = {}) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const gateway = startNode(
    'src/main.ts',
    {
      PORT: String(port),
      PUBLIC_URL: origin,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      RATE_LIMIT_PER_MINUTE: '1000000000',
      // One load generator stands for many clients: no per-address connection cap.
      MAX_CONNECTIONS_PER_ADDRESS: '0',
      LOG_LEVEL: 'warn',
      RUN_WORKERS: '0',
      NODE_ENV: 'production',
      ADMIN_API_KEY: 'bench_admin_key_0123456789',
      ...extraEnv,
    },
    // V8 flags to try on the gateway alone (e.g. BENCH_GATEWAY_NODE_ARGS=--max-semi-space-size=32).
    (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
  );
  try {
    await waitForHttp(`${origin}/readyz`, gateway);
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return { origin, gateway };
}

export async function kiosque(
  scale: Scale,
  databaseUrl: string,
  redisUrl: string,
  world: BenchWorld,
  tokens: AssertionCache,
): Promise<KiosqueResults> {
  const { origin, gateway } = await startGateway(databaseUrl, redisUrl);
  try {
    progress('Kiosque: warming the gateway up');
    await saturate(origin, world, tokens, scale, 0, 3, `warm-${Date.now()}`);

    progress(
      `Kiosque: saturation, subscribers spread over ${world.subscribers}, ${scale.connections} connections for ${scale.loadS} s`,
    );
    const spread = await saturate(origin, world, tokens, scale, 0, scale.loadS, `spread-${Date.now()}`);
    progress(
      `  ${spread.confirmationsPerS} confirmations/s, ${spread.declinesPerS} declines/s, ${spread.failures} failures`,
    );

    const second = await startGateway(databaseUrl, redisUrl);
    let spreadTwoGateways: SaturationRun;
    try {
      await saturate(second.origin, world, tokens, scale, 0, 3, `warm-second-${Date.now()}`);
      progress(`Kiosque: saturation, spread, the same connections shared by two gateway processes, ${scale.loadS} s`);
      spreadTwoGateways = await saturateAcross(
        [origin, second.origin],
        world,
        tokens,
        scale,
        scale.loadS,
        `spread-two-${Date.now()}`,
      );
    } finally {
      await second.gateway.stop();
    }
    progress(`  ${spreadTwoGateways.confirmationsPerS} confirmations/s, ${spreadTwoGateways.failures} failures`);

    progress(`Kiosque: saturation, 10% of confirmations on one subscriber, ${scale.loadS} s`);
    const hot = await saturate(origin, world, tokens, scale, 0.1, scale.loadS, `hot-${Date.now()}`);
    progress(`  ${hot.confirmationsPerS} confirmations/s, ${hot.declinesPerS} declines/s, ${hot.failures} failures`);

    const light = async (hotShare: number, label: string, confirmBody?: string) => {
      // What the saturation runs before left behind (dead rows, dirty pages) is vacuumed and checkpointed
      // first, the same way before every loop, or that backlog lands inside the loop it happens to precede.
      await withClient(databaseUrl, async (client) => {
        await client.query(
          'VACUUM ANALYZE purchases, subscriber_spending, idempotency_keys, outbox_events, ' +
            'ledger_entries, ledger_postings, points_households',
        );
        await client.query('CHECKPOINT');
      });
      progress(
        `Kiosque: open loop, ${OPEN_LOOP_PURCHASES_PER_S} purchases/s at fixed times for ${scale.openLoopS} s, ${label}`,
      );
      const { result, pauses } = await pausesDuring(origin, () =>
        openLoop({
          origin,
          purchasesPerS: OPEN_LOOP_PURCHASES_PER_S,
          durationS: scale.openLoopS,
          confirmDelayMs: 500,
          publisherAuth: `Bearer ${world.publisher.apiKey}`,
          confirmAuth: chooser(world, tokens, hotShare),
          keyPrefix: `open-${label}-${Date.now()}`,
          ...(confirmBody ? { confirmBody } : {}),
        }),
      );
      return { ...result, gatewayPauses: pauses };
    };
    const openLoopSpread = await light(0, 'spread');
    progress(
      `  confirm p50 ${openLoopSpread.confirm.p50Ms} ms, p99 ${openLoopSpread.confirm.p99Ms} ms (create p99 ${openLoopSpread.create.p99Ms} ms)`,
    );
    const openLoopHot = await light(0.1, 'hot');
    progress(
      `  confirm p50 ${openLoopHot.confirm.p50Ms} ms, p99 ${openLoopHot.confirm.p99Ms} ms (create p99 ${openLoopHot.create.p99Ms} ms)`,
    );
    // Enough points that no household runs out while the loop draws subscribers at random.
    await withClient(databaseUrl, (client) => grantPoints(client, world.subscribers, 1000));
    await saturate(origin, world, tokens, scale, 0, 3, `warm-points-${Date.now()}`, JSON.stringify({ points: 1 }));
    const openLoopPoints = await light(0, 'points', JSON.stringify({ points: 1 }));
    progress(
      `  paying with points: confirm p50 ${openLoopPoints.confirm.p50Ms} ms, p99 ${openLoopPoints.confirm.p99Ms} ms`,
    );
    await gateway.stop();
    return { spread, spreadTwoGateways, hot, openLoopSpread, openLoopHot, openLoopPoints };
  } finally {
    await gateway.stop();
  }
}
