import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { startCpuReading } from '../lib/cpu-time.js';
import { topFunctions, type HotFunction } from '../lib/cpu-profile.js';
import type { AssertionCache, BenchWorld } from '../lib/fixtures.js';
import { freePort, ROOT } from '../lib/proc.js';
import { progress, round, sleep } from '../lib/log.js';

/** How the gateway reaches PostgreSQL: loopback TCP, or the server's Unix socket on the same host. */
export type Transport = 'tcp' | 'unix';

export interface CpuSplit {
  transport: Transport;
  purchases: number;
  /** CPU of the gateway process (user + system) per create + confirm. */
  gatewayMs: number;
  /** CPU of the PostgreSQL backends serving the gateway's database, per create + confirm. */
  postgresMs: number;
  /** What both cores allow if they did nothing but these two: 2 × 1000 / (gateway + PostgreSQL). */
  twoCoreBoundPerS: number;
}

export interface CpuSplitOptions {
  databaseUrl: string;
  world: BenchWorld;
  tokens: AssertionCache;
  purchases: number;
  concurrency: number;
  /** Another checkout's code, run by the same driver. */
  root?: string;
  /** Where the gateway writes its V8 CPU profile, if anywhere. */
  profileDir?: string;
}

/** The Unix socket directory of a local PostgreSQL (Debian's), named in the URL as libpq names it. */
const SOCKET_DIR = '/var/run/postgresql';

export function overTransport(databaseUrl: string, transport: Transport): string {
  if (transport === 'tcp') return databaseUrl;
  const url = new URL(databaseUrl);
  url.hostname = 'localhost';
  url.port = '';
  url.searchParams.set('host', SOCKET_DIR);
  return url.toString();
}

/**
 * Where a purchase's CPU goes: the gateway's and PostgreSQL's CPU seconds read
 * from /proc around a fixed number of create + confirm. Unlike throughput or
 * latency, CPU per purchase hardly moves when other work shares the machine,
 * and the two together bound what any load can get out of the machine's cores.
 */
export async function cpuSplit(transport: Transport, options: CpuSplitOptions): Promise<CpuSplit> {
  const databaseUrl = overTransport(options.databaseUrl, transport);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const profile = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir] : [];
  const gateway = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/main.ts'], {
    cwd: options.root ?? ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      PUBLIC_URL: origin,
      DATABASE_URL: databaseUrl,
      RATE_LIMIT_PER_MINUTE: '1000000000',
      // One load generator stands for many clients: no per-address connection cap.
      MAX_CONNECTIONS_PER_ADDRESS: '0',
      LOG_LEVEL: 'warn',
      RUN_WORKERS: '0',
      NODE_ENV: 'production',
      ADMIN_API_KEY: 'bench_admin_key_0123456789',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => gateway.once('exit', resolve));
  const { world, tokens } = options;

  const purchase = async (n: number, run: string) => {
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
    const confirmed = await fetch(`${origin}/v1/purchases/${id}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.forSubscriber(1 + (n % world.subscribers))}` },
    });
    await confirmed.arrayBuffer();
    if (created.status !== 201 || confirmed.status !== 200)
      throw new Error(`purchase ${n}: create ${created.status}, confirm ${confirmed.status}`);
  };
  const drive = async (count: number, run: string) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < count) await purchase(next++, run);
      }),
    );
  };

  try {
    for (let tries = 0; ; tries++) {
      try {
        // Ready, not merely alive: until its migrations are checked a gateway answers 503.
        if ((await fetch(`${origin}/readyz`)).ok) break;
      } catch {
        if (tries > 600) throw new Error('gateway did not start');
      }
      await sleep(100);
    }
    await drive(300, `warm-${transport}-${Date.now()}`);
    const database = new URL(databaseUrl).pathname.slice(1);
    const reading = startCpuReading(gateway.pid ?? 0, database);
    await drive(options.purchases, `cpu-${transport}-${Date.now()}`);
    const { gatewayMs, postgresMs } = reading.per(options.purchases);
    return {
      transport,
      purchases: options.purchases,
      gatewayMs,
      postgresMs,
      twoCoreBoundPerS: round(2000 / (gatewayMs + postgresMs)),
    };
  } finally {
    // SIGINT lets node write the profile before it exits.
    gateway.kill('SIGINT');
    await exited;
  }
}

export interface CpuResults {
  runs: CpuSplit[];
  /** Where the gateway's CPU went in the first run over TCP: top self time. */
  profile: HotFunction[];
}

/**
 * TCP and Unix socket in turn, twice each, so that a drift of the machine's
 * load falls on both alike; then one more run over TCP with the V8 profiler
 * on, for where the gateway's CPU goes. The profiler costs the gateway CPU of
 * its own, so that run is not one of the measured ones, and it is taken here
 * rather than while latency is measured.
 */
export async function cpuSplits(options: Omit<CpuSplitOptions, 'profileDir'>, profileDir: string): Promise<CpuResults> {
  mkdirSync(profileDir, { recursive: true });
  const runs: CpuSplit[] = [];
  for (const transport of ['tcp', 'unix', 'tcp', 'unix'] as const) {
    progress(
      `CPU per purchase over ${transport}: ${options.purchases} create + confirm, ${options.concurrency} at once`,
    );
    const split = await cpuSplit(transport, options);
    progress(`  gateway ${split.gatewayMs} ms, PostgreSQL ${split.postgresMs} ms`);
    runs.push(split);
  }
  progress('CPU profile of the gateway over TCP');
  await cpuSplit('tcp', { ...options, profileDir });
  return { runs, profile: topFunctions(profileDir) };
}
