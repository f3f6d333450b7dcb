import type { BillingResults } from '../parts/billing.js';
import type { CpuResults } from '../parts/cpu-split.js';
import type { HttpCeiling } from '../parts/http-ceiling.js';
import type { KiosqueResults } from '../parts/kiosque.js';
import { ratiosMarkdown, type RatioResults } from '../parts/ratios.js';
import { redisOutageMarkdown, type RedisOutageResults } from '../parts/redis-outage.js';
import type { StoreCeilings } from '../parts/store-ceilings.js';
import type { WebhookResults } from '../parts/webhooks.js';
import type { ComposedCeiling } from './compose.js';
import type { Machine } from './machine.js';
import type { Scale } from './scale.js';

export interface Skipped {
  skipped: string;
}

export interface BenchResults {
  date: string;
  commit: string;
  machine: Machine;
  scale: Scale;
  http: HttpCeiling;
  stores: StoreCeilings;
  composed: ComposedCeiling;
  kiosque: KiosqueResults;
  /** Purchases against PostgreSQL's own pace (issue 22). */
  ratios: RatioResults;
  redisOutage: RedisOutageResults;
  /** CPU per purchase, gateway and PostgreSQL, over TCP and the Unix socket in turn. */
  cpu: CpuResults;
  billing: BillingResults | Skipped;
  webhooks: WebhookResults | Skipped;
  targets: Target[];
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

const ratio = (a: number, b: number) => Number((a / b).toFixed(2));

export function isSkipped<T extends object>(value: T | Skipped): value is Skipped {
  return 'skipped' in value;
}

/** Saturated purchases/s of the last run recorded before issue 8 (scale 1, 2026-11-25, commit 0db14e9). */
export const SATURATION_BEFORE_ISSUE_8 = 158.3;

export function targets(
  kiosque: KiosqueResults,
  cpu: CpuResults,
  composed: ComposedCeiling,
  billing: BillingResults | Skipped,
  http: HttpCeiling,
  floors: StoreCeilings['floors'],
): Target[] {
  const saturation = ratio(kiosque.spread.confirmationsPerS, composed.purchasesPerS);
  const hot = ratio(kiosque.hot.confirmationsPerS, kiosque.spread.confirmationsPerS);
  // A purchase is two requests: the middleware stack alone would serve half its request rate in purchases.
  const ofExpress = ratio(kiosque.spread.confirmationsPerS, http.expressWithLimiter.requestsPerS / 2);
  const gain = ratio(kiosque.spread.confirmationsPerS, SATURATION_BEFORE_ISSUE_8);
  const gainTwoGateways = ratio(kiosque.spreadTwoGateways.confirmationsPerS, SATURATION_BEFORE_ISSUE_8);
  const overTcp = cpu.runs.filter((split) => split.transport === 'tcp');
  const bound = overTcp.length ? Math.max(...overTcp.map((split) => split.twoCoreBoundPerS)) : null;
  const wanted = 4 * SATURATION_BEFORE_ISSUE_8;
  const list: Target[] = [
    {
      name: 'confirmation p99, open loop 100 purchases/s',
      goal: '≤ 5 ms',
      measured: `${kiosque.openLoopSpread.confirm.p99Ms} ms (its SQL alone, pgbench: ${floors.purchaseSql.p99Ms} ms)`,
      met: kiosque.openLoopSpread.confirm.p99Ms <= 5,
    },
    {
      name: 'saturated throughput / composed ceiling',
      goal: '≥ 0.60',
      measured: saturation.toFixed(2),
      met: saturation >= 0.6,
    },
    { name: 'hot-subscriber / spread throughput', goal: '≥ 0.70', measured: hot.toFixed(2), met: hot >= 0.7 },
    {
      name: 'confirmation paying with points p99, open loop 100 purchases/s',
      goal: '≤ 5 ms',
      measured: `${kiosque.openLoopPoints.confirm.p99Ms} ms`,
      met: kiosque.openLoopPoints.confirm.p99Ms <= 5,
    },
    {
      name: 'saturated purchases/s / (Express + limiter req/s ÷ 2)',
      goal: '≥ 0.50',
      measured: ofExpress.toFixed(2),
      met: ofExpress >= 0.5,
    },
    {
      name: `saturated purchases/s / ${SATURATION_BEFORE_ISSUE_8} (scale-1 run before issue 8)`,
      goal: '≥ 4',
      measured: gain.toFixed(2),
      met: gain >= 4,
    },
    {
      name: `the same, two gateway processes (one per core, as SCALING.md runs them)`,
      goal: '≥ 4',
      measured: gainTwoGateways.toFixed(2),
      met: gainTwoGateways >= 4,
    },
    {
      name: `what the CPU of one purchase leaves possible: 2 cores ÷ (gateway + PostgreSQL CPU), TCP`,
      goal: `≥ ${wanted.toFixed(1)} purchases/s (4 × ${SATURATION_BEFORE_ISSUE_8})`,
      measured: bound === null ? 'not measured' : `${bound} purchases/s at most, with nothing left for the clients`,
      met: bound === null ? null : bound >= wanted,
    },
  ];
  if (isSkipped(billing)) {
    list.push({
      name: 'billing run, 1,000,000 purchases',
      goal: '< 15 s, memory flat',
      measured: billing.skipped,
      met: null,
    });
  } else {
    const largest = billing.runs.at(-1);
    list.push({
      name: `billing run, ${largest?.purchases.toLocaleString('en') ?? '?'} purchases`,
      goal: '< 15 s',
      measured: `${largest?.seconds ?? '?'} s`,
      met: largest ? largest.seconds < 15 : null,
    });
    list.push({
      name: 'billing peak RSS, largest / smallest run',
      goal: '≈ 1 (flat)',
      measured: billing.rssGrowth.toFixed(2),
      met: billing.rssGrowth <= 1.5,
    });
  }
  return list;
}

function table(header: string[], rows: (string | number)[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** The readable summary: printed, saved beside the JSON, and appended to BENCHMARKS.md. */
export function summaryMarkdown(r: BenchResults): string {
  const k = r.kiosque;
  const c = r.composed;
  const lines: string[] = [];
  lines.push(`### ${r.date} · commit ${r.commit} · BENCH_SCALE=${r.scale.factor}`);
  lines.push('');
  lines.push(
    `Machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}, node ${r.machine.node}, PostgreSQL ${r.machine.postgres}, ${r.machine.redis.split(' ').slice(0, 3).join(' ')}. ` +
      `${r.scale.connections} connections, ${r.scale.loadS} s per saturation run, ${r.scale.subscribers.toLocaleString('en')} subscribers.`,
  );
  lines.push('');
  lines.push('**Ceilings** (same run, same concurrency)');
  lines.push('');
  lines.push(
    table(
      ['what', 'throughput', 'p50', 'p99'],
      [
        [
          'bare node:http, constant reply',
          `${r.http.bare.requestsPerS} req/s`,
          `${r.http.bare.p50Ms} ms`,
          `${r.http.bare.p99Ms} ms`,
        ],
        [
          'Express + Kiosque middleware, limiter off',
          `${r.http.express.requestsPerS} req/s`,
          `${r.http.express.p50Ms} ms`,
          `${r.http.express.p99Ms} ms`,
        ],
        [
          'Express + Kiosque middleware + Redis limiter',
          `${r.http.expressWithLimiter.requestsPerS} req/s`,
          `${r.http.expressWithLimiter.p50Ms} ms`,
          `${r.http.expressWithLimiter.p99Ms} ms`,
        ],
        [
          'redis-benchmark, limiter INCR + PEXPIRE NX',
          `${r.stores.redis.requestsPerS} round trips/s`,
          `${r.stores.redis.p50Ms} ms`,
          '',
        ],
        [
          `pgbench, the ${r.stores.postgres.statementsPerPurchase} captured statements of create + confirm`,
          `${r.stores.postgres.tps} purchases/s`,
          `avg ${r.stores.postgres.latencyAverageMs} ms`,
          '',
        ],
        [
          `pgbench at ${r.stores.floors.purchaseSql.ratePerS}/s, the captured create + confirm`,
          `${r.stores.floors.purchaseSql.transactions} purchases`,
          `${r.stores.floors.purchaseSql.p50Ms} ms`,
          `${r.stores.floors.purchaseSql.p99Ms} ms`,
        ],
        [
          `pgbench at ${r.stores.floors.commit.ratePerS}/s, one INSERT and its durable commit`,
          `${r.stores.floors.commit.transactions} commits`,
          `${r.stores.floors.commit.p50Ms} ms`,
          `${r.stores.floors.commit.p99Ms} ms`,
        ],
        [
          'composed: 1 / (2/HTTP + 2/Redis + 1/SQL)',
          `${c.purchasesPerS} purchases/s`,
          `cost shares: HTTP ${c.shareOfCost.http}, Redis ${c.shareOfCost.redis}, SQL ${c.shareOfCost.postgres}`,
          '',
        ],
      ],
    ),
  );
  lines.push('');
  lines.push('**Kiosque** (gateway in its own process, create + confirm over HTTP)');
  lines.push('');
  lines.push(
    table(
      ['run', 'confirmations/s', 'declines/s', 'ratio', 'request p50 / p99'],
      [
        [
          'saturation, spread',
          k.spread.confirmationsPerS,
          k.spread.declinesPerS,
          `${ratio(k.spread.confirmationsPerS, c.purchasesPerS)} of composed ceiling`,
          `${k.spread.requestP50Ms} / ${k.spread.requestP99Ms} ms`,
        ],
        [
          'saturation, spread, two gateway processes',
          k.spreadTwoGateways.confirmationsPerS,
          k.spreadTwoGateways.declinesPerS,
          `${ratio(k.spreadTwoGateways.confirmationsPerS, k.spread.confirmationsPerS)} of one process`,
          `${k.spreadTwoGateways.requestP50Ms} / ${k.spreadTwoGateways.requestP99Ms} ms (worst gateway)`,
        ],
        [
          'saturation, 10% on one subscriber',
          k.hot.confirmationsPerS,
          k.hot.declinesPerS,
          `${ratio(k.hot.confirmationsPerS, k.spread.confirmationsPerS)} of spread`,
          `${k.hot.requestP50Ms} / ${k.hot.requestP99Ms} ms`,
        ],
      ],
    ),
  );
  lines.push('');
  lines.push(
    table(
      [
        'open loop, 100 purchases/s offered',
        'confirm p50',
        'confirm p99',
        'confirm p99.9 / max',
        'create p50 / p99',
        'confirmed / declined / failed',
        "gateway's event-loop delay p99 / max",
        'GC pauses',
      ],
      [k.openLoopSpread, k.openLoopHot, k.openLoopPoints].map((o, i) => [
        ['spread', '10% on one subscriber', 'spread, paid with 1 point each'][i] ?? '',
        `${o.confirm.p50Ms} ms`,
        `${o.confirm.p99Ms} ms`,
        `${o.confirm.p999Ms} / ${o.confirm.maxMs} ms`,
        `${o.create.p50Ms} / ${o.create.p99Ms} ms`,
        `${o.confirmed} / ${o.declined} / ${o.failed}`,
        `${o.gatewayPauses.eventLoopP99Ms} / ${o.gatewayPauses.eventLoopMaxMs} ms`,
        `${o.gatewayPauses.gcCount}, ${o.gatewayPauses.gcMs} ms in all`,
      ]),
    ),
  );
  lines.push('');
  if (r.cpu.runs.length) {
    lines.push(
      '**CPU per purchase** (create + confirm, 8 at once; user + system CPU read from /proc: the gateway process, and ' +
        'the PostgreSQL backends serving its database, without the shared WAL writer and checkpointer)',
    );
    lines.push('');
    lines.push(
      table(
        ['to PostgreSQL over', 'purchases', 'gateway CPU', 'PostgreSQL CPU', '2 cores allow at most'],
        r.cpu.runs.map((split) => [
          split.transport === 'tcp' ? 'TCP, 127.0.0.1' : 'Unix socket',
          split.purchases,
          `${split.gatewayMs} ms`,
          `${split.postgresMs} ms`,
          `${split.twoCoreBoundPerS} purchases/s`,
        ]),
      ),
    );
    lines.push('');
  }
  if (isSkipped(r.billing)) lines.push(`**Billing**: not measured: ${r.billing.skipped}`);
  else {
    lines.push('**Billing** (worker in its own process, enqueue to done)');
    lines.push('');
    lines.push(
      table(
        ['purchases', 'subscribers', 'seconds', 'purchases/s', 'worker peak RSS'],
        r.billing.runs.map((b) => [
          b.purchases.toLocaleString('en'),
          b.subscribers.toLocaleString('en'),
          b.seconds,
          b.purchasesPerS,
          `${b.peakRssMiB} MiB`,
        ]),
      ),
    );
  }
  lines.push('');
  if (isSkipped(r.webhooks)) lines.push(`**Webhooks**: not measured: ${r.webhooks.skipped}`);
  else {
    lines.push(
      `**Webhooks**: ${r.webhooks.events} events delivered to a local receiver in ${r.webhooks.seconds} s: ${r.webhooks.deliveriesPerS} deliveries/s ` +
        `(receiver ceiling ${r.webhooks.receiverCeilingPerS} req/s, ratio ${ratio(r.webhooks.deliveriesPerS, r.webhooks.receiverCeilingPerS)}).`,
    );
  }
  lines.push('');
  lines.push("**Against PostgreSQL's own pace** (the yardstick just before and just after, issue 22)");
  lines.push('');
  lines.push(ratiosMarkdown(r.ratios));
  lines.push(redisOutageMarkdown(r.redisOutage));
  lines.push('**Targets**');
  lines.push('');
  lines.push(
    table(
      ['target', 'goal', 'measured', 'met'],
      r.targets.map((t) => [t.name, t.goal, t.measured, t.met === null ? 'not measured' : t.met ? 'yes' : 'NO']),
    ),
  );
  if (r.cpu.profile.length) {
    lines.push('');
    lines.push(
      'Gateway CPU profile during a CPU-per-purchase run over TCP (not one of the measured ones), top self time:',
    );
    lines.push('');
    lines.push(
      table(
        ['self %', 'function'],
        r.cpu.profile.slice(0, 10).map((f) => [f.selfPercent, `\`${f.name}\``]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
