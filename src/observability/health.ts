import { Router } from 'express';
import type { Cluster, Redis } from 'ioredis';
import type { Database } from '../store/database.js';
import { pendingMigrations, pingDatabase } from '../store/health.js';
import { registry } from './metrics.js';

const CHECK_TIMEOUT_MS = 3000;

export interface Dependencies {
  database: Database;
  redis: Redis | Cluster;
}

export type Checks = Record<'postgresql' | 'redis' | 'migrations', string>;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function reason(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message ? message.split('\n')[0]! : String(error);
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
}

/** What a process knows of its own start-up: a gateway serves nothing past its health routes until it has migrated. */
export interface StartedUp {
  /** True once this process has seen every migration applied. */
  migrated(): boolean;
}

/** A process built by someone who migrated first (a test harness, a script, the workers): nothing to wait for. */
export const ALREADY_MIGRATED: StartedUp = { migrated: () => true };

/**
 * 'ok' for each dependency that is ready, else why not. The migrations are
 * ready when none is pending in the database and this process has finished
 * its own start-up check: another process may have applied them while this
 * one still waits for the migrations' lock, and until it has it answers 503.
 */
export async function readinessChecks(
  { database, redis }: Dependencies,
  startedUp: StartedUp = ALREADY_MIGRATED,
): Promise<Checks> {
  // Redis is asked first, alone: its client gives up on a command after 250 ms, and the first query
  // Prisma plans while PostgreSQL is down holds the event loop longer than that (it loads its
  // query compiler), which would report a healthy Redis as unreachable.
  const r = await (redis.status === 'ready'
    ? within(redis.ping(), 'Redis').then(
        () => 'ok',
        (e: unknown) => `unreachable (${reason(e)})`,
      )
    : Promise.resolve(`unreachable (connection ${redis.status})`));
  const postgresql = within(pingDatabase(database), 'PostgreSQL').then(
    () => 'ok',
    (e: unknown) => `unreachable (${reason(e)})`,
  );
  const migrations = postgresql.then(async (pg) => {
    if (pg !== 'ok') return 'unknown while PostgreSQL is unreachable';
    try {
      const pending = await within(pendingMigrations(database), 'PostgreSQL');
      if (pending.length) return `pending: ${pending.join(', ')}`;
      return startedUp.migrated() ? 'ok' : 'applied, but this process is still checking them';
    } catch (error) {
      return `unknown (${reason(error)})`;
    }
  });
  const [p, m] = await Promise.all([postgresql, migrations]);
  return { postgresql: p, redis: r, migrations: m };
}

/**
 * GET /healthz: the process is alive and serving (no dependency is asked, so a
 * database outage never gets gateways restarted). GET /readyz: PostgreSQL,
 * Redis and migrations, 503 naming what is not ready so a load balancer routes
 * around it. GET /metrics: Prometheus text for this process.
 */
export function healthRoutes(deps: Dependencies, startedUp: StartedUp = ALREADY_MIGRATED): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    // A load balancer must see this instant's state, never a stored one.
    res.set('Cache-Control', 'no-store');
    const checks = await readinessChecks(deps, startedUp);
    const notReady = Object.entries(checks)
      .filter(([, state]) => state !== 'ok')
      .map(([name]) => name);
    if (!notReady.length) return res.json({ status: 'ready', checks });
    res.set('Retry-After', '5');
    res.status(503).json({
      error: {
        code: 'service_unavailable',
        message: `Not ready: ${notReady.join(', ')}`,
        details: { notReady, checks },
      },
    });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
