import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './proc.js';

const run = promisify(execFile);

/** PostgreSQL's own pace on this machine, as pg-yardstick.sh measures it. */
export interface Yardstick {
  /** pgbench's built-in TPC-B-like transactions per second (8 clients, prepared). */
  tpcbPerS: number;
  /** p99 of a lone durable one-row insert offered at 100/s, in ms. */
  loneInsertP99Ms: number;
}

/**
 * The script lives beside the repository, not in it (it is shared by every
 * checkout on the machine): PG_YARDSTICK names it, by default
 * ../shared/tools/pg-yardstick.sh from the repository's root.
 */
export function yardstickPath(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(ROOT, env.PG_YARDSTICK ?? '../shared/tools/pg-yardstick.sh');
}

/** Null when the script is absent: the ratios are then skipped, with the path that was looked at. */
export async function measureYardstick(path = yardstickPath()): Promise<Yardstick | null> {
  if (!existsSync(path)) return null;
  const { stdout } = await run('bash', [path], { maxBuffer: 1 << 20 });
  const match = /tpcb (\d+) p99c ([\d.]+)/.exec(stdout);
  if (!match) throw new Error(`${path} printed no "tpcb N p99c M" line: ${stdout}`);
  return { tpcbPerS: Number(match[1]), loneInsertP99Ms: Number(match[2]) };
}

export const meanYardstick = (a: Yardstick, b: Yardstick): Yardstick => ({
  tpcbPerS: (a.tpcbPerS + b.tpcbPerS) / 2,
  loneInsertP99Ms: (a.loneInsertP99Ms + b.loneInsertP99Ms) / 2,
});
