import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { databaseUrl, freshDatabase, withClient } from './lib/database.js';
import { AssertionCache, provisionWorld } from './lib/fixtures.js';
import { cpuSplit, type Transport } from './parts/cpu-split.js';

/**
 * CPU milliseconds the gateway process and PostgreSQL's backends spend per
 * create + confirm (bench/parts/cpu-split.ts), alone: it compares two versions
 * of the code on a loaded host. `CODE_ROOT=/path/to/other/checkout` measures
 * another version with the same driver; `CPU_PROF=<dir>` writes the gateway's
 * V8 CPU profile there; `TRANSPORT=unix` reaches PostgreSQL by its Unix socket.
 *
 *   npx tsx bench/cpu-per-purchase.ts [purchases=1000] [concurrency=4]
 */
const purchases = Number(process.argv[2] ?? 1000);
const concurrency = Number(process.argv[3] ?? 4);
const transport: Transport = process.env.TRANSPORT === 'unix' ? 'unix' : 'tcp';
const url = databaseUrl(`kiosque_bench_cpu${process.env.BENCH_DATABASE_SUFFIX ?? ''}`);

await freshDatabase(url);
const world = await withClient(url, (client) => provisionWorld(client, 1000));
const split = await cpuSplit(transport, {
  databaseUrl: url,
  world,
  tokens: new AssertionCache(world),
  purchases,
  concurrency,
  ...(process.env.CODE_ROOT ? { root: resolve(process.env.CODE_ROOT) } : {}),
  ...(process.env.CPU_PROF ? { profileDir: process.env.CPU_PROF } : {}),
});
const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
process.stdout.write(`${JSON.stringify({ ...split, concurrency, loadAverage })}\n`);
process.exit(0);
