import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { databaseUrl, freshDatabase, withClient } from './lib/database.js';
import { AssertionCache, provisionWorld } from './lib/fixtures.js';
import { freePort } from './lib/proc.js';

/**
 * CPU seconds the gateway process spends per create + confirm, read from
 * /proc/<pid>/stat around a fixed number of purchases. Unlike throughput or
 * latency, CPU time per purchase hardly moves when other work shares the
 * machine, so it compares two versions of the code on a loaded host.
 * `CODE_ROOT=/path/to/other/checkout` measures another version with the same driver;
 * `CPU_PROF=<dir>` writes the gateway's V8 CPU profile there.
 *
 *   npx tsx bench/cpu-per-purchase.ts [purchases=1000] [concurrency=4]
 */
const purchases = Number(process.argv[2] ?? 1000);
const concurrency = Number(process.argv[3] ?? 4);
const root = process.env.CODE_ROOT ?? process.cwd();
const url = databaseUrl(`kiosque_bench_cpu${process.env.BENCH_DATABASE_SUFFIX ?? ''}`);

await freshDatabase(url);
const world = await withClient(url, (client) => provisionWorld(client, 1000));
const tokens = new AssertionCache(world);
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const profile = process.env.CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.CPU_PROF] : [];
const gateway = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/main.ts'], {
  cwd: root,
  env: {
    ...process.env,
    PORT: String(port),
    PUBLIC_URL: origin,
    DATABASE_URL: url,
    RATE_LIMIT_PER_MINUTE: '1000000000',
    LOG_LEVEL: 'warn',
    RUN_WORKERS: '0',
    NODE_ENV: 'production',
    ADMIN_API_KEY: 'bench_admin_key_0123456789',
  },
  stdio: 'inherit',
});

/** utime + stime of a process, in seconds (clock ticks of 1/100 s); 0 once it is gone. */
function cpuSecondsOf(pid: number | string): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const cpuSeconds = () => cpuSecondsOf(gateway.pid ?? 0);

/**
 * CPU seconds of the PostgreSQL backends serving this benchmark's database:
 * what the database spends on the same purchases, apart from other sessions'
 * work on the same server. The shared WAL writer and checkpointer are left
 * out for that reason. The gateway's pool keeps its backends for the whole
 * run, so none is missed by exiting between the two readings.
 */
function postgresCpuSeconds(): number {
  const database = new URL(url).pathname.slice(1);
  let total = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(` ${database} `)) total += cpuSecondsOf(pid);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

async function purchase(n: number, run: string): Promise<void> {
  const created = await fetch(`${origin}/v1/purchases`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${world.publisher.apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': `${run}-${n}`,
    },
    body: JSON.stringify({ amount: '0.01', currency: 'EUR', description: 'Benchmark article', channel: 'isp' }),
  });
  const { id } = (await created.json()) as { id: string };
  const subscriber = 1 + (n % world.subscribers);
  const confirmed = await fetch(`${origin}/v1/purchases/${id}/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.forSubscriber(subscriber)}` },
  });
  await confirmed.arrayBuffer();
  if (created.status !== 201 || confirmed.status !== 200) throw new Error(`${created.status} / ${confirmed.status}`);
}

async function drive(count: number, run: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await purchase(next++, run);
    }),
  );
}

try {
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      if (tries > 600) throw new Error('gateway did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await drive(300, `warm-${Date.now()}`);
  const cpuBefore = cpuSeconds();
  const postgresBefore = postgresCpuSeconds();
  const started = performance.now();
  await drive(purchases, `run-${Date.now()}`);
  const wallS = (performance.now() - started) / 1000;
  const cpuS = cpuSeconds() - cpuBefore;
  const postgresS = postgresCpuSeconds() - postgresBefore;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  process.stdout.write(
    `${JSON.stringify({
      root,
      purchases,
      concurrency,
      gatewayCpuMsPerPurchase: Number(((cpuS * 1000) / purchases).toFixed(3)),
      postgresCpuMsPerPurchase: Number(((postgresS * 1000) / purchases).toFixed(3)),
      wallMsPerPurchase: Number(((wallS * 1000) / purchases).toFixed(3)),
      loadAverage: load,
    })}\n`,
  );
} finally {
  // SIGINT lets node write the profile before it exits.
  const exited = new Promise((resolve) => gateway.once('exit', resolve));
  gateway.kill('SIGINT');
  await exited;
}
process.exit(0);
