import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/store/database.js';
import { createPool } from '../src/store/db.js';
import { ensureDatabase, migrate } from '../src/store/migrate.js';
import { isDatabaseUnavailable } from '../src/store/unavailable.js';
import { startPrivatePostgres, type PrivatePostgres } from './support/private-postgres.js';

/**
 * The host selector against real servers: a primary, its streaming standby,
 * and servers made read-only the way a demoted primary is.
 */
const servers: PrivatePostgres[] = [];
const pools: pg.Pool[] = [];
async function server(options?: Parameters<typeof startPrivatePostgres>[0]): Promise<PrivatePostgres> {
  const started = await startPrivatePostgres(options);
  servers.push(started);
  return started;
}
function pool(url: string): pg.Pool {
  const opened = createPool(url, 2);
  pools.push(opened);
  return opened;
}
const portOf = async (p: pg.Pool) =>
  (await p.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]?.port;
const multiHost = (...nodes: PrivatePostgres[]) =>
  `postgresql://postgres@${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}/postgres?target_session_attrs=read-write`;
const setReadOnly = async (node: PrivatePostgres, on: boolean) => {
  const admin = pool(node.adminUrl);
  await admin.query(`ALTER SYSTEM SET default_transaction_read_only = ${on ? 'on' : 'off'}`);
  await admin.query('SELECT pg_reload_conf()');
};
/** Whether the server's port refuses connections: it is really down, not merely slow to answer. */
const refuses = (node: PrivatePostgres) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(node.port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
/** Closes the pool's open (idle) connections, so that its next query opens a new one, to the host it remembers. */
async function closeConnections(p: pg.Pool): Promise<void> {
  const clients = await Promise.all(Array.from({ length: p.totalCount }, () => p.connect()));
  for (const client of clients) client.release(true);
  expect(p.totalCount).toBe(0);
}
/** What a new session on the node reads, once a reload has reached the server. */
async function newSessionReadOnly(node: PrivatePostgres): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: node.adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ default_transaction_read_only: string }>(
      'SHOW default_transaction_read_only',
    );
    return rows[0]?.default_transaction_read_only;
  } finally {
    await client.end();
  }
}
/** Runs `work` until it succeeds, collecting the errors on the way: none may be anything but "unavailable". */
async function untilServed<T>(work: () => Promise<T>, errors: unknown[]): Promise<T> {
  for (let i = 0; i < 100; i++) {
    try {
      return await work();
    } catch (error) {
      errors.push(error);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`never served: ${String(errors.at(-1))}`);
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end().catch(() => undefined)));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.destroy()));
});

describe('Finding the writable primary among several hosts', () => {
  let primary: PrivatePostgres;
  let standby: PrivatePostgres;
  beforeAll(async () => {
    primary = await server();
    standby = await server({ standbyOf: primary });
  });

  it('When the standby is listed first, then the pool, Prisma and migrations all work on the primary, and the writes reach the standby', async () => {
    const url = multiHost(standby, primary).replace('/postgres?', '/kiosque_selector?');
    await ensureDatabase(url);
    expect(await migrate(url)).not.toEqual([]);
    const p = pool(url);
    expect(await portOf(p)).toBe(primary.port);
    const database = openDatabase(url, 1);
    try {
      const rows = await database.prisma.$queryRawUnsafe<{ port: number }[]>('SELECT inet_server_port() AS port');
      expect(rows[0]?.port).toBe(primary.port);
      await database.prisma.$executeRawUnsafe('CREATE TABLE selector_marks AS SELECT 1 AS n');
    } finally {
      await database.close();
    }
    const onStandby = pool(standby.urlFor('kiosque_selector'));
    await untilServed(async () => {
      const { rows } = await onStandby.query('SELECT n FROM selector_marks');
      if (rows.length !== 1) throw new Error('not replicated yet');
    }, []);
  });

  it('When the primary crashes and its standby is promoted, then the same pool finds the new primary by itself, and meanwhile fails only as "unavailable"', async () => {
    const p = pool(multiHost(primary, standby));
    await p.query('CREATE TABLE IF NOT EXISTS failover_marks (n int)');
    expect(await portOf(p)).toBe(primary.port);
    await primary.stop('immediate');
    const errors: unknown[] = [];
    // Before the promotion no host is writable: every try fails, as unavailable.
    await expect(p.query('INSERT INTO failover_marks VALUES (1)')).rejects.toSatisfy(isDatabaseUnavailable);
    await standby.promote();
    await untilServed(() => p.query('INSERT INTO failover_marks VALUES (2)'), errors);
    expect(await portOf(p)).toBe(standby.port);
    expect(errors.filter((e) => !isDatabaseUnavailable(e))).toEqual([]);
  });
});

describe('Leaving a primary that turns read-only', () => {
  it('When the pooled primary turns read-only under a live connection, then the write fails as unavailable (25006), the connection is dropped, and the next write goes to the host now writable', async () => {
    const [first, second] = await Promise.all([server(), server()]);
    await Promise.all([first, second].map((node) => pool(node.adminUrl).query('CREATE TABLE marks (n int)')));
    await setReadOnly(second, true);
    const p = pool(multiHost(second, first));
    expect(await portOf(p)).toBe(first.port);

    await setReadOnly(first, true);
    await setReadOnly(second, false);
    // The reload reaches the pooled session a moment later.
    await untilServed(async () => {
      const { rows } = await p.query<{ default_transaction_read_only: string }>('SHOW default_transaction_read_only');
      if (rows[0]?.default_transaction_read_only !== 'on') throw new Error('not read-only yet');
    }, []);
    const failed = await p.query('INSERT INTO marks VALUES (1)').catch((error: unknown) => error);
    expect((failed as { code?: string }).code).toBe('25006');
    expect(isDatabaseUnavailable(failed)).toBe(true);
    const errors: unknown[] = [];
    await untilServed(() => p.query('INSERT INTO marks VALUES (2)'), errors);
    expect(await portOf(p)).toBe(second.port);
    expect(errors.filter((e) => !isDatabaseUnavailable(e))).toEqual([]);
  });

  it('When the only writable host waits for a synchronous standby it does not have (an old primary restarted in place), then it is refused as unavailable', async () => {
    const orphan = await server({ settings: { synchronous_standby_names: 'ghost' } });
    const p = pool(`postgresql://postgres@127.0.0.1:${orphan.port}/postgres?target_session_attrs=read-write`);
    const refused = await p.query('SELECT 1').catch((error: unknown) => error);
    expect((refused as Error).message).toMatch(/synchronous standby/);
    expect(isDatabaseUnavailable(refused)).toBe(true);
  });

  it('When a commit stops waiting for its synchronous standby (a cancel), then it fails as unavailable (40003) instead of succeeding unreplicated, though the row is on the primary', async () => {
    const primary = await server({ settings: { synchronous_standby_names: '"*"' } });
    const standby = await server({ standbyOf: primary });
    const p = pool(`postgresql://postgres@127.0.0.1:${primary.port}/postgres?target_session_attrs=read-write`);
    await untilServed(() => p.query('CREATE TABLE unreplicated (n int)'), []);
    await standby.stop('fast');
    // statement_timeout never cuts a commit's wait (PostgreSQL disarms it before committing); a cancel does.
    const inserting = p.query('INSERT INTO unreplicated VALUES (1)').catch((error: unknown) => error);
    const admin = pool(primary.adminUrl);
    await untilServed(async () => {
      const { rows } = await admin.query<{ cancelled: boolean }>(
        `SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity
         WHERE query LIKE 'INSERT INTO unreplicated%' AND wait_event = 'SyncRep'`,
      );
      if (!rows[0]?.cancelled) throw new Error('not waiting for the standby yet');
    }, []);
    const failed = await inserting;
    expect((failed as { code?: string }).code).toBe('40003');
    expect(isDatabaseUnavailable(failed)).toBe(true);
    // What PostgreSQL reports as a success: the row is there, on the primary alone.
    const { rows } = await admin.query('SELECT n FROM unreplicated');
    expect(rows).toEqual([{ n: 1 }]);
  });
});

describe('Leaving a remembered primary that is gone before the pool opens a connection to it', () => {
  it('When the remembered primary is down and the pool has no open connection, then the next queries are served by the other writable host on their first try, and once no host is writable they fail as 08001', async () => {
    const [first, second] = await Promise.all([server(), server()]);
    const p = pool(multiHost(first, second));
    expect(await portOf(p)).toBe(first.port);
    await closeConnections(p);

    await first.stop('fast');
    expect(await refuses(first)).toBe(true);
    // More queries than the pool has connections: each new connection tries the dead host, then all share one search.
    expect(await Promise.all([portOf(p), portOf(p), portOf(p)])).toEqual([second.port, second.port, second.port]);

    await closeConnections(p);
    await second.stop('fast');
    expect(await refuses(second)).toBe(true);
    const failed = await p.query('SELECT 1').catch((error: unknown) => error);
    expect(failed).toMatchObject({ name: 'NoWritablePrimaryError', code: '08001' });
    expect(isDatabaseUnavailable(failed)).toBe(true);
  });

  it('When the remembered primary has turned read-only and the pool has no open connection, then the next write is served by the other writable host on its first try', async () => {
    const [first, second] = await Promise.all([server(), server()]);
    await Promise.all([first, second].map((node) => pool(node.adminUrl).query('CREATE TABLE marks (n int)')));
    const p = pool(multiHost(first, second));
    expect(await portOf(p)).toBe(first.port);
    await closeConnections(p);

    await setReadOnly(first, true);
    await untilServed(async () => {
      if ((await newSessionReadOnly(first)) !== 'on') throw new Error('not read-only yet');
    }, []);
    await p.query('INSERT INTO marks VALUES (1)');
    expect(await portOf(p)).toBe(second.port);
  });
});
