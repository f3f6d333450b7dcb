import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

type Observer = Pick<pg.Pool, 'query'>;

export interface HeldRow {
  /** The backend holding the lock. */
  pid: number;
  release(): Promise<void>;
}

/**
 * Locks the row of `table` whose id is `id` on a connection of its own, as a
 * transaction in flight would, until released: whatever needs that row waits
 * on an ordinary row lock, with no hook in the code under test.
 */
export async function holdRow(databaseUrl: string, table: string, id: string): Promise<HeldRow> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await client.query('BEGIN');
  const locked = await client.query(`SELECT 1 FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
  if (locked.rowCount !== 1) throw new Error(`${table} ${id} not found to hold`);
  return {
    pid: rows[0]?.pid as number,
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/**
 * Locks one purchase on a connection of its own, as a confirmation or a refund
 * in flight does: the billing chunk that claims it waits, inside its
 * transaction, until the lock is released. No hook in the worker: the chunk
 * meets an ordinary row lock.
 */
export function holdPurchase(databaseUrl: string, purchaseId: string): Promise<HeldRow> {
  return holdRow(databaseUrl, 'purchases', purchaseId);
}

/** True when some transaction holds a lease on a chunk of the run (its row cannot be locked without waiting). */
export async function chunkLeased(observer: Observer, billingRunId: string): Promise<boolean> {
  try {
    await observer.query('SELECT 1 FROM billing_run_chunks WHERE billing_run_id = $1 FOR UPDATE NOWAIT', [
      billingRunId,
    ]);
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return true;
    throw error;
  }
}

/** Every backend waiting on the holder's lock (seen from another connection). */
export async function backendsBlockedBy(observer: Observer, holderPid: number): Promise<number[]> {
  const { rows } = await observer.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))',
    [holderPid],
  );
  return rows.map((r) => r.pid);
}

/**
 * The operating-system process at the other end of a backend's connection
 * (by its client port, through `ss`), or null when no process holds it: a
 * test can then prove that the process it kills is the one the backend serves.
 */
export async function clientProcessOf(observer: Observer, backendPid: number): Promise<number | null> {
  const { rows } = await observer.query<{ port: number | null }>(
    'SELECT client_port AS port FROM pg_stat_activity WHERE pid = $1',
    [backendPid],
  );
  const port = rows[0]?.port;
  if (port === undefined || port === null) return null;
  const { stdout } = await promisify(execFile)('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`]);
  const owner = /pid=(\d+)/.exec(stdout);
  return owner ? Number(owner[1]) : null;
}

/** The billing backends waiting on the holder's lock, inside a transaction (seen from another connection). */
export async function billingBackendsBlockedBy(observer: Observer, holderPid: number): Promise<number[]> {
  const { rows } = await observer.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
     WHERE $1::int = ANY(pg_blocking_pids(pid)) AND application_name = 'kiosque-billing' AND xact_start IS NOT NULL`,
    [holderPid],
  );
  return rows.map((r) => r.pid);
}

export async function backendAlive(observer: Observer, pid: number): Promise<boolean> {
  const { rows } = await observer.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
  return rows.length > 0;
}

/**
 * Waits until a billing worker is inside a chunk of the run, blocked on the
 * held row, with the chunk leased; returns its backend's pid.
 */
export async function waitForWorkerInsideChunk(
  observer: Observer,
  held: HeldRow,
  billingRunId: string,
  timeoutMs = 60_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [pid] = await billingBackendsBlockedBy(observer, held.pid);
    if (pid !== undefined && (await chunkLeased(observer, billingRunId))) return pid;
    if (Date.now() > deadline)
      throw new Error(`no billing worker inside a chunk of ${billingRunId} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
