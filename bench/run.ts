import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { composeCeiling } from './lib/compose.js';
import { databaseUrl, freshDatabase, withClient } from './lib/database.js';
import { AssertionCache, provisionWorld } from './lib/fixtures.js';
import { BENCH_ADMIN_API_KEY } from './lib/gateway.js';
import { progress } from './lib/log.js';
import { currentCommit, describeMachine, describeMachineLine } from './lib/machine.js';
import { ROOT } from './lib/proc.js';
import { summaryMarkdown, targets, type BenchResults, type Skipped } from './lib/report.js';
import { scaleFromEnv } from './lib/scale.js';
import { billing, type BillingResults } from './parts/billing.js';
import { cpuSplits } from './parts/cpu-split.js';
import { httpCeiling } from './parts/http-ceiling.js';
import { kiosque } from './parts/kiosque.js';
import { burstsAlone, ratios, ratiosMarkdown } from './parts/ratios.js';
import { redisOutage, redisOutageMarkdown } from './parts/redis-outage.js';
import { storeCeilings } from './parts/store-ceilings.js';
import { webhooks, type WebhookResults } from './parts/webhooks.js';

/**
 * `npm run bench`: every measurement in one run on one machine, so Kiosque's
 * figures can be read as ratios to the ceilings measured beside them.
 * Unattended; BENCH_SCALE=0.1 for a quick run.
 */
const scale = scaleFromEnv();
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const date = new Date().toISOString();
const stamp = date.replace(/[:.]/g, '-');
const resultsDir = join(ROOT, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const queuePrefix = `kiosque-bench-${process.pid}`;

progress(`Kiosque benchmark, BENCH_SCALE=${scale.factor}; results go to bench/results/${stamp}.json`);
const machine = describeMachine();
const commit = currentCommit();

// Several people benchmarking on one PostgreSQL each give their run its own databases.
const databaseSuffix = process.env.BENCH_DATABASE_SUFFIX ?? '';
const mainUrl = databaseUrl(`kiosque_bench${databaseSuffix}`);
const provision = async () => {
  progress(`Provisioning ${scale.subscribers.toLocaleString('en')} subscribers in SQL (${mainUrl})`);
  await freshDatabase(mainUrl);
  return withClient(mainUrl, (client) => provisionWorld(client, scale.subscribers));
};

// BENCH_ONLY=redis-outage: only issue 21's Redis outage, a minute.
if (process.env.BENCH_ONLY === 'redis-outage') {
  const outage = await redisOutage(mainUrl, await provision());
  const summary = `## Redis outage run of ${date} (commit ${commit})\n\n${describeMachineLine(machine)}\n\n${redisOutageMarkdown(outage)}`;
  if (process.env.BENCH_RECORD !== '0') appendFileSync(join(ROOT, 'BENCHMARKS.md'), `\n${summary}`);
  process.stdout.write(`\n${summary}`);
  process.exit(0);
}

// BENCH_ONLY=ratios: only the figures read against PostgreSQL's own pace (issue 22), a run of a few minutes.
if (process.env.BENCH_ONLY === 'ratios') {
  const world = await provision();
  const results = await ratios(scale, mainUrl, redisUrl, world, new AssertionCache(world));
  const outage = await redisOutage(mainUrl, world);
  const summary = `## Ratios run of ${date} (commit ${commit}, BENCH_SCALE=${scale.factor})\n\n${describeMachineLine(machine)}\n\n${ratiosMarkdown(results)}\n${redisOutageMarkdown(outage)}`;
  writeFileSync(
    join(resultsDir, `${stamp}-ratios.json`),
    `${JSON.stringify({ date, commit, machine, scale, ...results, redisOutage: outage }, null, 2)}\n`,
  );
  if (process.env.BENCH_RECORD !== '0') appendFileSync(join(ROOT, 'BENCHMARKS.md'), `\n${summary}`);
  process.stdout.write(`\n${summary}`);
  process.exit(0);
}

// BENCH_ONLY=burst: only the burst of 1,000 confirmations of one subscriber (issue 22), BURST_TIMES times.
if (process.env.BENCH_ONLY === 'burst') {
  const runs = await burstsAlone(mainUrl, redisUrl, await provision(), Number(process.env.BURST_TIMES ?? 3));
  writeFileSync(
    join(resultsDir, `${stamp}-burst.json`),
    `${JSON.stringify({ date, commit, machine, runs }, null, 2)}\n`,
  );
  process.exit(0);
}

const http = await httpCeiling(scale, redisUrl);
const world = await provision();
const tokens = new AssertionCache(world);
const config = loadConfig({
  DATABASE_URL: mainUrl,
  REDIS_URL: redisUrl,
  ADMIN_API_KEY: BENCH_ADMIN_API_KEY,
  LOG_LEVEL: 'silent',
  QUEUE_PREFIX: queuePrefix,
});
const stores = await storeCeilings(scale, config, world, tokens, join(resultsDir, `${stamp}-purchase.pgbench.sql`));
const composed = composeCeiling(http, stores);
progress(`Composed ceiling: ${composed.purchasesPerS} purchases/s`);

const kiosqueResults = await kiosque(scale, mainUrl, redisUrl, world, tokens);
const ratioResults = await ratios(scale, mainUrl, redisUrl, world, tokens);
const outageResults = await redisOutage(mainUrl, world);
const cpu = await cpuSplits(
  {
    databaseUrl: mainUrl,
    world,
    tokens,
    purchases: Math.max(200, Math.round(2000 * scale.factor)),
    concurrency: scale.connections,
  },
  join(resultsDir, 'profiles'),
);

const workersUrl = databaseUrl(`kiosque_bench_workers${databaseSuffix}`);
const workerEnv = { databaseUrl: workersUrl, redisUrl, queuePrefix };
let billingResults: BillingResults | Skipped = { skipped: 'workers/billing.ts is missing' };
let webhookResults: WebhookResults | Skipped = { skipped: 'workers/webhooks.ts is missing' };
const workersWanted = process.env.BENCH_WORKERS !== '0';
if (!workersWanted) {
  billingResults = { skipped: 'BENCH_WORKERS=0' };
  webhookResults = { skipped: 'BENCH_WORKERS=0' };
} else if (existsSync(join(ROOT, 'workers/billing.ts')) || existsSync(join(ROOT, 'workers/webhooks.ts'))) {
  progress(`Provisioning the workers' database (${workersUrl})`);
  await freshDatabase(workersUrl);
  await withClient(workersUrl, async (client) => {
    const workerWorld = await provisionWorld(client, scale.subscribers);
    if (existsSync(join(ROOT, 'workers/billing.ts')))
      billingResults = await billing(client, workerEnv, workerWorld, scale.billingPurchases);
    if (existsSync(join(ROOT, 'workers/webhooks.ts'))) webhookResults = await webhooks(client, workerEnv, scale);
  });
}

const results: BenchResults = {
  date,
  commit,
  machine,
  scale,
  http,
  stores,
  composed,
  kiosque: kiosqueResults,
  ratios: ratioResults,
  redisOutage: outageResults,
  cpu,
  billing: billingResults,
  webhooks: webhookResults,
  targets: targets(kiosqueResults, cpu, composed, billingResults, http, stores.floors),
};
const summary = summaryMarkdown(results);
writeFileSync(join(resultsDir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(resultsDir, `${stamp}.md`), summary);
if (process.env.BENCH_RECORD !== '0') appendFileSync(join(ROOT, 'BENCHMARKS.md'), `\n${summary}`);
process.stdout.write(`\n${summary}`);
progress(
  `done: bench/results/${stamp}.json${process.env.BENCH_RECORD !== '0' ? ', summary appended to BENCHMARKS.md' : ''}`,
);
process.exit(0);
