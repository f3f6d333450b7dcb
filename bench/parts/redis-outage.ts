import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import type { BenchWorld } from '../lib/fixtures.js';
import { progress, sleep } from '../lib/log.js';
import { freePort } from '../lib/proc.js';
import { summarize, type LatencySummary } from '../lib/stats.js';
import { startGateway } from './kiosque.js';

/** Creates at a fixed rate while the gateway's Redis answers, hangs (SIGSTOP), then is gone (SIGKILL). */
export interface RedisOutageResults {
  up: LatencySummary;
  /** Redis stopped, its connection open: commands go unanswered. From the second second of the outage. */
  hung: LatencySummary;
  /** Redis killed: connections refused. From the second second of the outage. */
  killed: LatencySummary;
  /** p50 with Redis hung or killed, less p50 with Redis up (target ≤ 50 ms). */
  addedP50Ms: number;
}

/** Well below what a loaded 2-core machine saturates at, so the figures show Redis, not queueing. */
const RATE_PER_S = 20;
const REQUESTS = 150;
const BODY = JSON.stringify({ amount: '0.01', currency: 'EUR', description: 'Outage probe', channel: 'isp' });

async function probe(origin: string, world: BenchWorld, label: string): Promise<LatencySummary> {
  const pool = new Pool(origin, { connections: 32 });
  const latencies: number[] = [];
  const t0 = performance.now() + 50;
  try {
    await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const at = t0 + (i * 1000) / RATE_PER_S;
        await sleep(Math.max(0, at - performance.now()));
        const answer = await pool.request({
          method: 'POST',
          path: '/v1/purchases',
          headers: {
            authorization: `Bearer ${world.publisher.apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': `${label}-${Date.now()}-${i}`,
          },
          body: BODY,
        });
        await answer.body.dump();
        if (answer.statusCode !== 201) throw new Error(`${label}: create answered ${answer.statusCode}`);
        latencies.push(performance.now() - at);
      }),
    );
  } finally {
    await pool.close();
  }
  return summarize(latencies);
}

async function privateRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  for (let attempt = 0; ; attempt++) {
    try {
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      await client.ping();
      break;
    } catch (error) {
      if (attempt > 50) throw error;
      await sleep(100);
    }
  }
  client.disconnect();
  return { url, child };
}

/**
 * Issue 21's "Redis unreachable": a gateway whose Redis hangs or dies keeps
 * answering, after the first second of the outage, within 50 ms of its p50
 * with Redis up. The gateway's limiter stays on (a limit nobody reaches).
 */
export async function redisOutage(databaseUrl: string, world: BenchWorld): Promise<RedisOutageResults> {
  const redis = await privateRedis();
  const { origin, gateway } = await startGateway(databaseUrl, redis.url);
  try {
    await probe(origin, world, 'outage-warm');
    progress(`Redis outage: ${REQUESTS} creates at ${RATE_PER_S}/s with Redis up`);
    const up = await probe(origin, world, 'outage-up');
    progress(`  p50 ${up.p50Ms} ms, max ${up.maxMs} ms; now Redis hangs (SIGSTOP)`);
    redis.child.kill('SIGSTOP');
    await sleep(1000);
    const hung = await probe(origin, world, 'outage-hung');
    progress(`  p50 ${hung.p50Ms} ms, max ${hung.maxMs} ms; now Redis is killed`);
    redis.child.kill('SIGKILL');
    await sleep(1000);
    const killed = await probe(origin, world, 'outage-killed');
    progress(`  p50 ${killed.p50Ms} ms, max ${killed.maxMs} ms`);
    const addedP50Ms = Number((Math.max(hung.p50Ms, killed.p50Ms) - up.p50Ms).toFixed(2));
    return { up, hung, killed, addedP50Ms };
  } finally {
    redis.child.kill('SIGKILL');
    await gateway.stop();
  }
}

export function redisOutageMarkdown(r: RedisOutageResults): string {
  const row = (what: string, s: LatencySummary) => `| ${what} | ${s.p50Ms} ms | ${s.p99Ms} ms | ${s.maxMs} ms |`;
  return [
    `Redis outage (creates at ${RATE_PER_S}/s, from the second second of each outage; target: p50 at most 50 ms above Redis up): **+${r.addedP50Ms} ms**`,
    '',
    '| Redis | p50 | p99 | max |',
    '| --- | --- | --- | --- |',
    row('up', r.up),
    row('hung (SIGSTOP)', r.hung),
    row('killed', r.killed),
    '',
  ].join('\n');
}
