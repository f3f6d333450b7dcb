import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_API_KEY, TEST_DATABASE_URL, TEST_REDIS_URL } from './support/env.js';
import { freePort } from './support/private-redis.js';

/**
 * The production path: `npm run build` emits dist/, `npm start` runs it with
 * node. These tests run the compiled code as a deployment would, with its
 * dependencies really missing (closed ports, nothing listening).
 */

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string[];
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function start(command: string, args: string[], port: number, env: Record<string, string>): Started {
  const child = spawn(command, args, {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      ADMIN_API_KEY: TEST_ADMIN_API_KEY,
      QUEUE_PREFIX: `kq-build-${process.pid}-${port}`,
      LOG_LEVEL: 'info',
      DATABASE_POOL_SIZE: '2',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url: `http://127.0.0.1:${port}`, output: () => lines, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** As `until`, but a process that exits meanwhile fails the test at once, with what it printed. */
function untilAlive<T>(
  started: Started,
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs?: number,
): Promise<T> {
  const died = started.exited.then((code): never => {
    throw new Error(`the process exited (${code}) before ${what}:\n${started.output().join('\n')}`);
  });
  return Promise.race([until(what, probe, timeoutMs), died]);
}

const status = async (url: string) => (await fetch(url)).status;

async function readiness(url: string): Promise<{ status: number; notReady: string[] }> {
  const res = await fetch(`${url}/readyz`);
  const body = (await res.json()) as { error?: { details: { notReady: string[] } } };
  return { status: res.status, notReady: body.error?.details.notReady ?? [] };
}

/** Closed ports are refused at once: what the process meets when a store is down. */
async function closedPort(): Promise<number> {
  return freePort();
}

/** The log may say a store is unreachable, but never with a stack trace, and never at length. */
function expectShortLog(lines: string[]) {
  expect(lines.filter((l) => /^\s+at /.test(l) || l.includes('\\n    at '))).toEqual([]);
  expect(lines.length).toBeLessThan(12);
}

beforeAll(() => {
  const build = spawnSync('npm', ['run', 'build'], { encoding: 'utf8', timeout: 400_000 });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
}, 420_000);

describe('npm run build and npm start', () => {
  it('When npm start is sent SIGTERM, then the compiled server it started shuts down and its port closes', async () => {
    const port = await freePort();
    const npm = start('npm', ['start', '--silent'], port, { RUN_WORKERS: '0' });
    await untilAlive(
      npm,
      'readiness',
      async () => ((await status(`${npm.url}/readyz`)) === 200 ? true : undefined),
      300_000,
    );
    expect(npm.output().join('\n')).toContain('Kiosque gateway listening');

    npm.child.kill('SIGTERM');
    await npm.exited;
    const closed = await until(
      'the port closing',
      async () => {
        try {
          await fetch(`${npm.url}/healthz`);
          return undefined;
        } catch {
          return true;
        }
      },
      30_000,
    );
    expect(closed).toBe(true);
    expect(npm.output().join('\n')).toContain('shutting down');
  }, 400_000);

  it('When Redis is unreachable, then the compiled gateway serves /healthz, names redis in /readyz, logs one line, and stops on SIGTERM', async () => {
    const gateway = start('node', ['dist/src/main.js'], await freePort(), {
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
    });
    expect(
      await untilAlive(gateway, 'liveness', async () =>
        (await status(`${gateway.url}/healthz`)) === 200 ? 200 : undefined,
      ),
    ).toBe(200);
    const ready = await until('postgresql ready, redis not', async () => {
      const r = await readiness(gateway.url);
      return r.notReady.length === 1 ? r : undefined;
    });
    expect(ready).toEqual({ status: 503, notReady: ['redis'] });
    // Several reconnect attempts go by while we look again.
    await new Promise((r) => setTimeout(r, 6_000));
    expect((await readiness(gateway.url)).notReady).toEqual(['redis']);
    const lines = gateway.output();
    expect(lines.filter((l) => l.includes('Redis unreachable at 127.0.0.1'))).toHaveLength(1);
    expectShortLog(lines);

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  }, 200_000);

  it('When PostgreSQL is unreachable, then the compiled gateway serves /healthz, names postgresql and migrations, and logs one line', async () => {
    const pgPort = await closedPort();
    const gateway = start('node', ['dist/src/main.js'], await freePort(), {
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${pgPort}/kiosque`,
    });
    expect(
      await untilAlive(gateway, 'liveness', async () =>
        (await status(`${gateway.url}/healthz`)) === 200 ? 200 : undefined,
      ),
    ).toBe(200);
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await readiness(gateway.url)).toEqual({ status: 503, notReady: ['postgresql', 'migrations'] });
    const lines = gateway.output();
    expect(lines.filter((l) => l.includes(`PostgreSQL unreachable at 127.0.0.1:${pgPort}`))).toHaveLength(1);
    expectShortLog(lines);

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  }, 200_000);

  it('When Redis comes up after the gateway, then readiness turns true and the log says it is back', async () => {
    const redisPort = await closedPort();
    const gateway = start('node', ['dist/src/main.js'], await freePort(), {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    await until('redis named as not ready', async () =>
      (await readiness(gateway.url)).notReady.includes('redis') ? true : undefined,
    );
    const redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    children.push(redis);
    const ready = await until('readiness', async () =>
      (await readiness(gateway.url)).status === 200 ? true : undefined,
    );
    expect(ready).toBe(true);
    await until('workers started', () =>
      Promise.resolve(gateway.output().some((l) => l.includes('Kiosque gateway ready')) ? true : undefined),
    );
    expect(gateway.output().filter((l) => l.includes('is reachable again'))).toHaveLength(1);
    expectShortLog(gateway.output());
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  }, 200_000);
});
