import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../support/private-redis.js';
import { waitUntil } from './traffic.js';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const PG_CTL = join(PG_BIN, 'pg_ctl');

/**
 * The monitor's timeouts, tuned for a formation on one machine: its defaults
 * (a health check every 5 s, a node unhealthy after 20 s, 30 s for the old
 * primary to drain) leave it unwritable for about 50 s after a primary dies.
 * The old primary's keeper demotes itself after `NETWORK_PARTITION_TIMEOUT_S`
 * without the monitor, so the monitor waits longer than that before it
 * promotes: never two primaries.
 */
export const MONITOR_SETTINGS = {
  'pgautofailover.health_check_period': '1000',
  'pgautofailover.health_check_timeout': '1000',
  'pgautofailover.health_check_max_retries': '1',
  'pgautofailover.health_check_retry_delay': '500',
  'pgautofailover.node_considered_unhealthy_timeout': '3000',
  'pgautofailover.primary_demote_timeout': '5000',
  'pgautofailover.startup_grace_period': '2000',
} as const;
export const NETWORK_PARTITION_TIMEOUT_S = 3;

export interface FormationNode {
  name: string;
  port: number;
  pgdata: string;
  /** The `pg_autoctl run` process tree's root (runuser under root). */
  keeper: ChildProcess;
}

export interface NodeState {
  name: string;
  port: number;
  reported: string;
  assigned: string;
}

export interface Formation {
  nodes: FormationNode[];
  /** Kiosque's database on the formation, in libpq's multi-host form, read-write. */
  databaseUrl: string;
  /** Kiosque's database on one node alone. */
  urlOf(node: FormationNode): string;
  states(): Promise<NodeState[]>;
  /** The node the monitor has settled as the writable primary (primary, or wait_primary without a standby). */
  primary(): Promise<FormationNode | null>;
  postmasterPid(node: FormationNode): Promise<number>;
  /** kill -9 of the node's keeper, its postmaster and every backend at once, as a host crash would. */
  killNode(node: FormationNode): Promise<number[]>;
  /** kill -9 of the postmaster alone: the keeper lives on and may restart it in place. */
  killPostmaster(node: FormationNode): Promise<number>;
  destroy(): Promise<void>;
}

/** Sends `name` to `pid`; false when there was no such process. */
const signal = (pid: number, name: NodeJS.Signals) => {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Every process under `root`, from /proc (Linux), children before their parents' siblings. */
async function descendants(root: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    // The command name may hold spaces and parentheses: the fields after its last ")" are fixed.
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN;
    if (Number.isInteger(ppid)) parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(root);
  return found;
}

/**
 * A pg_auto_failover formation of the test's own: a monitor and two nodes
 * with synchronous replication (the default with one standby), on free local
 * ports in a temp directory. pg_autoctl refuses to run as root, so under root
 * it runs as the `postgres` system user, as private-postgres.ts does.
 */
export async function startFormation(name: string, database: string): Promise<Formation> {
  const dir = await mkdtemp(join(tmpdir(), `kiosque-paf-${name}-`));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    await run('chown', ['postgres', dir]);
    await chmod(dir, 0o755);
  }
  // pg_autoctl keeps its configuration and state under XDG directories: the test's own, not the user's.
  const env = [`XDG_CONFIG_HOME=${join(dir, 'config')}`, `XDG_DATA_HOME=${join(dir, 'data')}`];
  const command = (args: string[]): [string, string[]] =>
    asRoot
      ? ['runuser', ['-u', 'postgres', '--', 'env', ...env, 'pg_autoctl', ...args]]
      : ['env', [...env, 'pg_autoctl', ...args]];
  const autoctl = async (args: string[]) => {
    const [file, argv] = command(args);
    return run(file, argv, { maxBuffer: 16 * 1024 * 1024 });
  };
  const children: ChildProcess[] = [];
  const keep = (pgdata: string, logName: string) => {
    const [file, argv] = command(['run', '--pgdata', pgdata]);
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(dir, `${logName}.log`));
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.push(child);
    return child;
  };

  const monitorPort = await freePort();
  const monitorData = join(dir, 'monitor');
  const common = ['--hostname', '127.0.0.1', '--auth', 'trust', '--no-ssl', '--pgctl', PG_CTL];
  await autoctl(['create', 'monitor', '--pgdata', monitorData, '--pgport', String(monitorPort), ...common]);
  keep(monitorData, 'monitor');
  const monitor = new pg.Pool({
    connectionString: `postgresql://postgres@127.0.0.1:${monitorPort}/pg_auto_failover`,
    max: 2,
  });
  monitor.on('error', () => undefined);
  await waitUntil(
    () =>
      monitor.query('SELECT 1').then(
        () => true,
        () => false,
      ),
    60_000,
    'the monitor up',
  );
  for (const [setting, value] of Object.entries(MONITOR_SETTINGS)) {
    await monitor.query(`ALTER SYSTEM SET ${setting} = '${value}'`);
  }
  await monitor.query('SELECT pg_reload_conf()');
  const monitorUri = `postgres://autoctl_node@127.0.0.1:${monitorPort}/pg_auto_failover?sslmode=disable`;

  const nodes: FormationNode[] = [];
  const states = async (): Promise<NodeState[]> =>
    (
      await monitor.query<NodeState>(
        'SELECT nodename AS name, nodeport AS port, reportedstate AS reported, goalstate AS assigned FROM pgautofailover.node ORDER BY nodeid',
      )
    ).rows;
  const addNode = async (nodeName: string, settledAs: string) => {
    const port = await freePort();
    const pgdata = join(dir, nodeName);
    await autoctl([
      'create',
      'postgres',
      '--pgdata',
      pgdata,
      '--pgport',
      String(port),
      '--name',
      nodeName,
      '--monitor',
      monitorUri,
      '--dbname',
      database,
      ...common,
    ]);
    await autoctl([
      'config',
      'set',
      '--pgdata',
      pgdata,
      'timeout.network_partition_timeout',
      String(NETWORK_PARTITION_TIMEOUT_S),
    ]);
    const keeper = keep(pgdata, nodeName);
    nodes.push({ name: nodeName, port, pgdata, keeper });
    await waitUntil(
      async () =>
        (await states()).some((s) => s.name === nodeName && s.reported === settledAs && s.assigned === settledAs),
      120_000,
      `${nodeName} ${settledAs}`,
    );
  };
  await addNode('node1', 'single');
  await addNode('node2', 'secondary');
  await waitUntil(
    async () => (await states()).map((s) => s.reported).join() === 'primary,secondary',
    120_000,
    'node1 primary with node2 its synchronous standby',
  );

  const urlOf = (node: FormationNode) => `postgresql://postgres@127.0.0.1:${node.port}/${database}`;
  const postmasterPid = async (node: FormationNode) =>
    Number((await readFile(join(node.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  return {
    nodes,
    databaseUrl: `postgresql://postgres@${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}/${database}?target_session_attrs=read-write`,
    urlOf,
    states,
    async primary() {
      const settled = (await states()).find(
        (s) => s.reported === s.assigned && (s.reported === 'primary' || s.reported === 'wait_primary'),
      );
      return nodes.find((n) => n.name === settled?.name) ?? null;
    },
    postmasterPid,
    async killNode(node) {
      const postmaster = await postmasterPid(node);
      const pids = [node.keeper.pid as number, ...(await descendants(node.keeper.pid as number))];
      if (!pids.includes(postmaster)) throw new Error(`postmaster ${postmaster} is not under ${node.name}'s keeper`);
      // A backend may end on its own between the listing and its kill.
      return pids.filter((pid) => signal(pid, 'SIGKILL'));
    },
    async killPostmaster(node) {
      const pid = await postmasterPid(node);
      if (!signal(pid, 'SIGKILL')) throw new Error(`no postmaster ${pid} to kill`);
      return pid;
    },
    async destroy() {
      await monitor.end().catch(() => undefined);
      // pg_autoctl stops its PostgreSQL on SIGTERM; whatever is left after that is killed.
      const trees = await Promise.all(
        children.map(async (child) => (child.pid === undefined ? [] : [child.pid, ...(await descendants(child.pid))])),
      );
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await waitUntil(() => trees.flat().every((pid) => !alive(pid)), 20_000, 'the formation stopped').catch(
        () => undefined,
      );
      for (const pid of trees.flat()) signal(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a process is gone: the proof that a kill landed. */
export const gone = (pid: number) => !alive(pid);
