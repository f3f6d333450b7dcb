import { spawn, type ChildProcess } from 'node:child_process';
import { TEST_ADMIN_API_KEY, TEST_DATABASE_URL, TEST_REDIS_URL } from './env.js';
import { freePort } from './private-redis.js';

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A real `src/main.ts` process, as `npm start` runs it, for tests that need several gateways. */
export async function spawnGateway(env: Record<string, string> = {}, readyWithinMs = 60_000): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      ADMIN_API_KEY: TEST_ADMIN_API_KEY,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      RATE_LIMIT_PER_MINUTE: '0',
      AUTH_FAILURES_PER_MINUTE: '0',
      RUN_WORKERS: '0',
      LOG_LEVEL: 'warn',
      DATABASE_POOL_SIZE: '5',
      // The test database is shared by files running side by side: a spawned worker sweeps no running billing
      // run unless its test asks (a run another file is driving is not its to bill). The fault suite, on its
      // own database, keeps the production default.
      BILLING_CHUNK_SWEEP_INTERVAL_MS: '600000',
      // Every test client is 127.0.0.1 and some burst hundreds of connections at once, as many clients would:
      // the per-address cap has a test of its own (test/slow-clients.test.ts).
      MAX_CONNECTIONS_PER_ADDRESS: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyWithinMs;
  let lastAnswer = 'no answer';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode} before serving`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
      lastAnswer = await res.text();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not become ready within ${readyWithinMs} ms: ${lastAnswer}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
