import { spawn, type ChildProcess } from 'node:child_process';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env.js';

export interface WorkerProcess {
  child: ChildProcess;
  /** Every stdout line so far (pino JSON at LOG_LEVEL info). */
  lines: readonly string[];
  /** Resolves with the first log line matching `pattern`, or rejects when the process exits first. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * A real `workers/main.ts` process, as `npm run workers` runs it. Started with
 * node --import tsx (not npx) so that a signal reaches the worker itself.
 */
export function spawnWorkers(env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      ADMIN_API_KEY: 'test_admin_key_0123456789',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
      LOG_LEVEL: 'info',
      // The test database is shared by files running side by side: a spawned worker sweeps no running billing
      // run unless its test asks (a run another file is driving is not its to bill). The fault suite, on its
      // own database, keeps the production default.
      BILLING_CHUNK_SWEEP_INTERVAL_MS: '600000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const listener of listeners) listener(line);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    waitForLog(pattern, timeoutMs = 60_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => done(new Error(`no log line matching ${pattern} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const listener = (line: string) => {
          if (pattern.test(line)) done(null, line);
        };
        const done = (error: Error | null, line?: string) => {
          clearTimeout(timer);
          listeners.delete(listener);
          if (error) reject(error);
          else resolve(line as string);
        };
        listeners.add(listener);
        void exited.then(({ code, signal }) =>
          done(new Error(`worker process exited (${code ?? signal}) before logging ${pattern}`)),
        );
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
