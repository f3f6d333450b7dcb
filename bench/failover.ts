import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { spawnGateway, type GatewayProcess } from '../test/support/gateway-process.js';
import { freePort } from '../test/support/private-redis.js';
import { startFormation } from '../test/faults/support/auto-failover.js';
import { startRedisOn } from '../test/faults/support/stack.js';
import { assertionFor, makeFixtures, TrafficLog, type Fixtures } from '../test/faults/support/traffic.js';
import { TEST_ADMIN_API_KEY } from '../test/support/env.js';
import { currentCommit } from './lib/machine.js';
import { ROOT } from './lib/proc.js';

/**
 * `npm run bench:failover`: what synchronous replication costs a confirmation.
 * One pg_auto_failover formation (monitor, primary, synchronous standby) on
 * this machine and two gateways on the same primary: one through the
 * multi-host URL, whose commits wait for the standby's flush as in
 * production, and one whose sessions set `synchronous_commit = local`, whose
 * commits wait for the primary's own disk only, as on a single server. Same
 * node, same disk, same load: the difference is the standby's round trip.
 * BENCH_CONFIRMATIONS (default 300) per mode, interleaved; four times as many
 * bare commits.
 */
const confirmations = Number(process.env.BENCH_CONFIRMATIONS ?? 300);
const CONCURRENCY = 8;
const ROUNDS = 2;

const formation = await startFormation('bench', 'kiosque_bench_failover');
const redis = await startRedisOn(await freePort());
const gateways: GatewayProcess[] = [];
try {
  const [primary] = formation.nodes;
  if (!primary) throw new Error('no primary');
  const env = {
    REDIS_URL: redis.url,
    ADMIN_API_KEY: TEST_ADMIN_API_KEY,
    QUEUE_PREFIX: 'kq-bench-failover',
    LOG_LEVEL: 'warn',
    DATABASE_POOL_SIZE: String(CONCURRENCY),
  };
  const synchronous = await spawnGateway({ ...env, DATABASE_URL: formation.databaseUrl }, 180_000);
  gateways.push(synchronous);
  const local = await spawnGateway(
    { ...env, DATABASE_URL: `${formation.urlOf(primary)}?options=-c%20synchronous_commit%3Dlocal` },
    180_000,
  );
  gateways.push(local);
  const log = new TrafficLog('bench-failover');
  await log.open();
  const fixtures = await makeFixtures(log, synchronous.url, 40);

  let n = 0;
  /** Creates a purchase (untimed), then times its confirmation. */
  const confirmOne = async (target: string, f: Fixtures): Promise<number> => {
    const i = n++;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${f.publisher.apiKey}` };
    const created = await fetch(`${target}/v1/purchases`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': `bench-${i}` },
      body: JSON.stringify({ amount: '0.01', currency: 'EUR', description: `Bench ${i}`, channel: 'isp' }),
    });
    const { id } = (await created.json()) as { id: string };
    const token = assertionFor(f.operator, f.subscribers[i % f.subscribers.length] as string);
    const started = performance.now();
    const confirmed = await fetch(`${target}/v1/purchases/${id}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    const elapsedMs = performance.now() - started;
    if (confirmed.status !== 200) throw new Error(`confirm answered ${confirmed.status}: ${await confirmed.text()}`);
    return elapsedMs;
  };
  const measure = async (target: string, concurrency: number) => {
    const started = performance.now();
    let left = confirmations;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await confirmOne(target, fixtures);
      }),
    );
    return { purchasesPerSecond: confirmations / ((performance.now() - started) / 1000) };
  };

  // Warm both gateways (prepared statements, pools) before anything counts.
  for (const g of gateways) for (let i = 0; i < 30; i++) await confirmOne(g.url, fixtures);
  const quantiles = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    return { p50Ms: at(0.5), p99Ms: at(0.99) };
  };
  // One confirmation on each in turn, so that the shared machine's drift falls on both alike.
  const serial = { synchronous: [] as number[], local: [] as number[] };
  for (let i = 0; i < confirmations; i++) {
    serial.synchronous.push(await confirmOne(synchronous.url, fixtures));
    serial.local.push(await confirmOne(local.url, fixtures));
  }
  // The commit alone: a one-row insert on the primary, each mode in turn, without HTTP or Kiosque around it.
  const commit = { synchronous: [] as number[], local: [] as number[] };
  const clients = {
    synchronous: new pg.Client({ connectionString: formation.urlOf(primary) }),
    local: new pg.Client({ connectionString: formation.urlOf(primary), options: '-c synchronous_commit=local' }),
  };
  await clients.synchronous.connect();
  await clients.local.connect();
  await clients.synchronous.query('CREATE TABLE bench_commits (n int)');
  for (let i = 0; i < confirmations * 4; i++) {
    for (const mode of ['synchronous', 'local'] as const) {
      const started = performance.now();
      await clients[mode].query('INSERT INTO bench_commits VALUES ($1)', [i]);
      commit[mode].push(performance.now() - started);
    }
  }
  await clients.synchronous.end();
  await clients.local.end();
  // Throughput with CONCURRENCY confirmations in flight, in interleaved rounds.
  const concurrent = { synchronous: [] as number[], local: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    concurrent.synchronous.push((await measure(synchronous.url, CONCURRENCY)).purchasesPerSecond);
    concurrent.local.push((await measure(local.url, CONCURRENCY)).purchasesPerSecond);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const summary = {
    confirmSerial: { synchronous: quantiles(serial.synchronous), local: quantiles(serial.local) },
    commitAlone: { synchronous: quantiles(commit.synchronous), local: quantiles(commit.local) },
    confirmationsPerSecondAt8: { synchronous: median(concurrent.synchronous), local: median(concurrent.local) },
  };
  const report = {
    date: new Date().toISOString(),
    commit: currentCommit(),
    cpus: cpus().length,
    loadAverage: loadavg(),
    cpuModel: cpus()[0]?.model,
    confirmations,
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    summary,
    concurrentRounds: concurrent,
  };
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `failover-${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(summary, null, 2));
  console.log(`written to ${file}`);
} finally {
  for (const g of gateways) await g.stop().catch(() => undefined);
  await redis.kill().catch(() => undefined);
  await formation.destroy();
}
