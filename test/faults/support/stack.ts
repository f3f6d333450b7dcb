import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { ensureDatabase, migrate } from '../../../src/store/migrate.js';
import { TEST_ADMIN_API_KEY } from '../../support/env.js';
import { spawnGateway, type GatewayProcess } from '../../support/gateway-process.js';
import { startPrivatePostgres, type PrivatePostgres } from '../../support/private-postgres.js';
import { freePort } from '../../support/private-redis.js';
import { spawnWorkers, type WorkerProcess } from '../../support/worker-process.js';

export interface RedisServer {
  url: string;
  port: number;
  /** SIGKILL: Redis dies with everything it held (no persistence is configured). */
  kill(): Promise<void>;
  /** Starts an empty Redis on the same port and resolves once it answers. */
  restart(): Promise<void>;
}

/** A redis-server on a fixed port, so it can be killed and brought back empty where every client expects it. */
export async function startRedisOn(port: number): Promise<RedisServer> {
  let child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const ping = async () => {
    for (let i = 0; i < 200; i++) {
      const answer = await new Promise<string>((resolve) => {
        const cli = spawn('redis-cli', ['-p', String(port), 'ping']);
        let out = '';
        cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
        cli.on('close', () => resolve(out.trim()));
      });
      if (answer === 'PONG') return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server on ${port} did not answer`);
  };
  await ping();
  return {
    url,
    port,
    async kill() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      await ping();
    },
  };
}

export interface FaultStack {
  postgres: PrivatePostgres;
  databaseUrl: string;
  redis: RedisServer;
  queuePrefix: string;
  /** A direct connection for the checks afterwards, and for holding locks. */
  sql: pg.Pool;
  gateway(env?: Record<string, string>): Promise<GatewayProcess>;
  /** Resolves once the worker process has started every worker. */
  workers(env?: Record<string, string>): Promise<WorkerProcess>;
  close(): Promise<void>;
}

/**
 * PostgreSQL and Redis servers of this test file's own, migrated as `npm
 * start` would, and real gateway and worker processes against them: a fault
 * can then stop, slow or kill any piece without touching what other tests use.
 */
export async function startFaultStack(name: string): Promise<FaultStack> {
  const postgres = await startPrivatePostgres();
  const databaseUrl = postgres.urlFor(`kiosque_${name.replace(/\W/g, '_')}`);
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  const redis = await startRedisOn(await freePort());
  const queuePrefix = `kq-fault-${name}`;
  const sql = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  sql.on('error', () => undefined);
  const gateways: GatewayProcess[] = [];
  const workers: WorkerProcess[] = [];
  const common = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: queuePrefix,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
    // This database is the stack's own: workers sweep billing runs as in production.
    BILLING_CHUNK_SWEEP_INTERVAL_MS: '2000',
  };
  return {
    postgres,
    databaseUrl,
    redis,
    queuePrefix,
    sql,
    async gateway(env = {}) {
      const gateway = await spawnGateway({ ...common, ADMIN_API_KEY: TEST_ADMIN_API_KEY, ...env });
      gateways.push(gateway);
      return gateway;
    },
    async workers(env = {}) {
      const worker = spawnWorkers({ ...common, ...env });
      workers.push(worker);
      await worker.waitForLog(/Kiosque workers started/, 120_000);
      return worker;
    },
    async close() {
      for (const g of gateways) {
        if (g.child.exitCode === null && g.child.signalCode === null) g.child.kill('SIGKILL');
      }
      await Promise.all(workers.map((w) => w.kill('SIGKILL')));
      await sql.end().catch(() => undefined);
      await redis.kill().catch(() => undefined);
      await postgres.destroy();
    },
  };
}

/** Resident memory of a process, in kB, from /proc (Linux). */
export async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)/.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}
