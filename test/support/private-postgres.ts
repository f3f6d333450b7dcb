import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './private-redis.js';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  /** The `postgres` maintenance database; tests create their own beside it. */
  adminUrl: string;
  port: number;
  urlFor(database: string): string;
  /** `pg_ctl stop`: `fast` ends sessions cleanly, `immediate` is a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** `pg_ctl promote`: a standby becomes a writable primary. */
  promote(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

export interface PrivatePostgresOptions {
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  /** Starts as a streaming standby of this server (pg_basebackup -R) instead of a fresh cluster. */
  standbyOf?: PrivatePostgres;
}

/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl on a free port in a
 * temp directory), so a fault test can stop, crash and slow it without
 * touching the machine's shared server. PostgreSQL refuses to run as root, so
 * under root the server runs as the `postgres` system user.
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'kiosque-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    await run('chown', ['postgres', dir]);
    await chmod(dir, 0o755);
  }
  const pgRun = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN, tool), ...args]) : run(join(PG_BIN, tool), args);
  if (options.standbyOf) {
    const from = ['-h', '127.0.0.1', '-p', String(options.standbyOf.port), '-U', 'postgres'];
    await pgRun('pg_basebackup', ['-D', data, ...from, '-R', '-X', 'stream', '--no-sync']);
  } else {
    await pgRun('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  }
  const settings = { listen_addresses: '127.0.0.1', fsync: 'off', max_connections: '200', ...options.settings };
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`),
  ].join(' ');
  const start = async () => {
    await pgRun('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await pgRun('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  };
  await start();
  const urlFor = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  let running = true;
  return {
    adminUrl: urlFor('postgres'),
    port,
    urlFor,
    async stop(mode) {
      await stop(mode);
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async promote() {
      await pgRun('pg_ctl', ['-D', data, '-w', '-t', '60', 'promote']);
    },
    async destroy() {
      if (running) await stop('immediate').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
