import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The rate limiter's transaction (src/http/rate-limit.ts: MULTI, INCR key,
 * PEXPIRE key 60000 NX, EXEC, sent in one round trip). redis-benchmark sends one
 * command per request, so the same two commands run as one server-side script:
 * one round trip and the same work inside Redis, as atomic as the MULTI.
 */
export const LIMITER_SCRIPT =
  "local c = redis.call('INCR', KEYS[1]); redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX'); return c";

export interface RedisBenchmarkResult {
  command: string;
  requestsPerS: number;
  p50Ms: number;
}

/** Keys are under kiosque:bench: with a 60 s expiry, so nothing is left behind and no flush is ever needed. */
export async function runRedisBenchmark(
  redisUrl: string,
  clients: number,
  requests: number,
  command: string[],
): Promise<RedisBenchmarkResult> {
  const url = new URL(redisUrl);
  const { stdout } = await run(
    'redis-benchmark',
    [
      '-h',
      url.hostname,
      '-p',
      url.port || '6379',
      '-c',
      String(clients),
      '-n',
      String(requests),
      '-r',
      '100000',
      '--csv',
      ...command,
    ],
    { maxBuffer: 1024 * 1024 },
  );
  // --csv: a header, then "name","rps","avg","min","p50","p95","p99","max"; the name may hold commas, so read from the end.
  const numbers =
    stdout
      .trim()
      .split('\n')
      .at(-1)
      ?.split(',')
      .slice(-7)
      .map((cell) => Number(cell.replaceAll('"', ''))) ?? [];
  return {
    command: command.slice(0, 2).join(' '),
    requestsPerS: numbers[0] ?? Number.NaN,
    p50Ms: numbers[2] ?? Number.NaN,
  };
}

export function limiterTransaction(redisUrl: string, clients: number, requests: number) {
  return runRedisBenchmark(redisUrl, clients, requests, [
    'EVAL',
    LIMITER_SCRIPT,
    '1',
    'kiosque:bench:rl:__rand_int__',
    '60000',
  ]);
}
