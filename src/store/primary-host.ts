import pg from 'pg';

/**
 * libpq's multi-host DATABASE_URL over node-postgres, which reads one host
 * only: `postgresql://user@h1:5432,h2:5433/kiosque?target_session_attrs=read-write`.
 *
 * Kiosque only ever works on the writable primary, so every connection is
 * made to the host last found writable and checked on arrival; a connection
 * that fails, or a node that turns out read-only (a demoted primary answers
 * SQLSTATE 25006), makes the process forget that host and look again, host
 * by host, before its next connection. A new connection that fails that way
 * before it was used asks again at once, so its caller is served by the host
 * now writable (PrimaryPool). SCALING.md says why this is a small selector
 * over `pg` rather than another driver.
 */

interface HostPort {
  host: string;
  port: number;
}

interface DatabaseHosts {
  hosts: HostPort[];
  /** Whether connections must be checked for a writable primary (several hosts, or target_session_attrs asks it). */
  selects: boolean;
  /** The same URL naming `host` alone, without target_session_attrs: what `pg` and `new URL()` can read. */
  urlFor(host: HostPort): string;
}

const DEFAULT_PORT = 5432;
const URL_SHAPE = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;
/** libpq's values that accept a writable primary; the others would send Kiosque's writes to a standby. */
const WRITABLE_ATTRS = new Set(['any', 'read-write', 'primary']);

function parseHost(text: string, url: string): HostPort {
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(text);
  const [host, port] = bracketed ? [bracketed[1], bracketed[2]] : text.split(':');
  if (!host) throw new Error(`DATABASE_URL names an empty host: ${redact(url)}`);
  const portNumber = port === undefined || port === '' ? DEFAULT_PORT : Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65_535) {
    throw new Error(`DATABASE_URL names a bad port "${port}": ${redact(url)}`);
  }
  return { host, port: portNumber };
}

/** A URL for error messages, without its password. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Reads the hosts of a (possibly multi-host) PostgreSQL URL; a URL pg can read already names one host. */
export function parseDatabaseUrl(databaseUrl: string): DatabaseHosts {
  const match = URL_SHAPE.exec(databaseUrl);
  if (!match) throw new Error(`DATABASE_URL is not a postgresql:// URL: ${redact(databaseUrl)}`);
  const [, scheme, userinfo = '', authority = '', path = '', query = '', fragment = ''] = match;
  const params = new URLSearchParams(query);
  const attrs = params.get('target_session_attrs');
  if (attrs !== null && !WRITABLE_ATTRS.has(attrs)) {
    throw new Error(`DATABASE_URL's target_session_attrs=${attrs} would send writes to a standby: use read-write`);
  }
  params.delete('target_session_attrs');
  const rest = params.size ? `?${params.toString()}` : '';
  // A Unix socket (`?host=/run/postgresql`) leaves the authority empty: pg reads that URL as it is.
  const hosts = authority === '' ? [] : authority.split(',').map((text) => parseHost(text, databaseUrl));
  const formatHost = ({ host, port }: HostPort) => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    hosts,
    selects: hosts.length > 1 || attrs === 'read-write' || attrs === 'primary',
    urlFor: (host) => `${scheme}${userinfo}${formatHost(host)}${path}${rest}${fragment}`,
  };
}

/** SQLSTATE 08001, libpq's own for "could not establish a connection": unavailable.ts maps class 08 to 503. */
class NoWritablePrimaryError extends Error {
  readonly code = '08001';
  constructor(reasons: string[]) {
    super(`no writable PostgreSQL primary: ${reasons.join('; ')}`);
    this.name = 'NoWritablePrimaryError';
  }
}

/**
 * Why this node must not take Kiosque's work, or null when it may. Besides
 * recovery and read-only, a primary that asks for a synchronous standby and
 * has none streaming is refused: it is the old primary restarted in place
 * after a crash, whose last commits its standby may never have received, and
 * whatever it answered (a replay, a ceiling) could be rewound away.
 */
async function writableRefusal(client: pg.ClientBase): Promise<string | null> {
  const { rows } = await client.query<{
    in_recovery: boolean;
    read_only: string;
    sync_names: string;
    sync_standbys: number;
  }>(
    `SELECT pg_is_in_recovery() AS in_recovery,
            current_setting('transaction_read_only') AS read_only,
            current_setting('synchronous_standby_names') AS sync_names,
            (SELECT count(*) FROM pg_stat_replication
              WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum'))::int AS sync_standbys`,
  );
  const node = rows[0];
  if (!node) return 'no answer';
  if (node.in_recovery) return 'in recovery (a standby)';
  if (node.read_only === 'on') return 'read-only';
  if (node.sync_names !== '' && node.sync_standbys === 0) {
    // pg_stat_replication hides these columns from roles without pg_read_all_stats: they then read as none.
    return 'waits for a synchronous standby and sees none streaming (grant pg_read_all_stats to see them)';
  }
  return null;
}

const describe = ({ host, port }: HostPort) => `${host}:${port}`;

/**
 * Remembers which host is the writable primary, and finds it again, asking
 * every host at once, once it is forgotten. One search runs at a time, however
 * many connections wait for it.
 */
class PrimaryLocator {
  private known: HostPort | null = null;
  private search: Promise<HostPort> | null = null;

  constructor(
    readonly hosts: DatabaseHosts,
    private readonly connectTimeoutMs: number,
  ) {}

  /** The primary, and whether it was only remembered: not found by a search this caller waited for. */
  async primary(): Promise<{ host: HostPort; remembered: boolean }> {
    if (this.known) return { host: this.known, remembered: true };
    this.search ??= this.find().finally(() => {
      this.search = null;
    });
    return { host: await this.search, remembered: false };
  }

  forget(host: HostPort): void {
    if (this.known === host) this.known = null;
  }

  private async find(): Promise<HostPort> {
    const verdicts = await Promise.all(this.hosts.hosts.map((host) => this.probe(host)));
    // The first writable in the URL's order, as libpq takes them.
    const index = verdicts.indexOf(null);
    const found = this.hosts.hosts[index];
    if (index < 0 || !found) {
      throw new NoWritablePrimaryError(this.hosts.hosts.map((host, i) => `${describe(host)} ${verdicts[i]}`));
    }
    this.known = found;
    return found;
  }

  private async probe(host: HostPort): Promise<string | null> {
    const client = new pg.Client({
      connectionString: this.hosts.urlFor(host),
      connectionTimeoutMillis: this.connectTimeoutMs,
      query_timeout: this.connectTimeoutMs,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await writableRefusal(client);
    } catch (error) {
      return `unreachable (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** read_only_sql_transaction: what a node answers a write once it has been demoted under a live connection. */
const READ_ONLY_TRANSACTION = '25006';

/**
 * SQLSTATE 40003, statement_completion_unknown: the commit is on this node's
 * disk but its standby may never have it. PostgreSQL reports a commit whose
 * wait for the synchronous standby was cut short (a cancel request,
 * pg_cancel_backend; statement_timeout never cuts it) as a success with a
 * WARNING; answered 2xx, it could be rewound away
 * by the failover that follows. It is made an error here, which the HTTP layer
 * answers 503, so the client retries (with its Idempotency-Key).
 */
class CommitNotReplicatedError extends Error {
  readonly code = '40003';
  constructor(host: HostPort) {
    super(`${describe(host)} committed locally, but its synchronous standby did not confirm the commit`);
    this.name = 'CommitNotReplicatedError';
  }
}

/** PostgreSQL's WARNING when a commit stops waiting for its synchronous standby (English server messages). */
const SYNC_WAIT_CANCELLED = /canceling (the )?wait for synchronous replication/i;

/**
 * Errors of new connections that failed on a remembered host before the
 * caller sent anything (the connect, or the arrival check, failed): the host
 * is forgotten by then, so asking again searches. A mark beside the error,
 * not another error, so that whoever sees it still sees what the host said.
 */
const rememberedHostFailures = new WeakSet<Error>();

function failedOnRememberedHost(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // pg-pool wraps the client's error when its own connect timeout cut the attempt.
  return rememberedHostFailures.has(error) || (error.cause instanceof Error && rememberedHostFailures.has(error.cause));
}

/** pg's statement in flight: setting `_canceledDueToError` makes it fail at ReadyForQuery (pg 8's own mechanism). */
interface QueryInFlight {
  _canceledDueToError?: Error | false;
}

/**
 * A pg.Client for pg.Pool's `Client` option: it connects to the locator's
 * primary and checks it on arrival, and on a connection error, a read-only
 * answer or a cancelled commit wait it ends itself, so the pool drops it, and
 * has the locator look again.
 */
function primaryClientClass(locator: PrimaryLocator): typeof pg.Client {
  return class PrimaryClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error | null, client?: pg.Client) => void): void;
    override connect(callback?: (err: Error | null, client?: pg.Client) => void): Promise<pg.Client> | void {
      const connecting = this.connectToPrimary();
      if (!callback) return connecting;
      connecting.then(
        (client) => callback(null, client),
        (error: Error) => callback(error),
      );
    }

    private async connectToPrimary(): Promise<pg.Client> {
      const { host, remembered } = await locator.primary();
      this.host = host.host;
      this.port = host.port;
      const forget = () => locator.forget(host);
      /** Nothing of the caller's was sent yet: a remembered host's failure may be asked again (PrimaryPool). */
      const unusable = (error: Error): Error => {
        forget();
        if (remembered) rememberedHostFailures.add(error);
        return error;
      };
      try {
        await super.connect();
      } catch (error) {
        throw unusable(error as Error);
      }
      this.on('error', forget);
      // After the failing statement's callback has run; the pool then drops this client on release.
      const drop = () => setImmediate(() => void this.end().catch(() => undefined));
      this.connection.on('errorMessage', (message: { code?: string }) => {
        if (message.code !== READ_ONLY_TRANSACTION) return;
        forget();
        drop();
      });
      this.on('notice', (notice: { severity?: string; message?: string }) => {
        if (notice.severity !== 'WARNING' || !SYNC_WAIT_CANCELLED.test(notice.message ?? '')) return;
        forget();
        const inFlight = (this as unknown as { _getActiveQuery(): QueryInFlight | null })._getActiveQuery();
        if (inFlight) inFlight._canceledDueToError = new CommitNotReplicatedError(host);
        drop();
      });
      const refusal = await writableRefusal(this).catch((error: Error) => `unreachable (${error.message})`);
      if (refusal !== null) {
        const refused = unusable(new NoWritablePrimaryError([`${describe(host)} ${refusal}`]));
        await this.end().catch(() => undefined);
        throw refused;
      }
      return this;
    }
  };
}

type ConnectCallback = (
  err: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: Error | boolean) => void,
) => void;

/**
 * A pg.Pool that asks once more for a new connection that failed on the
 * remembered primary before anything was sent on it: after a failover that
 * host may be dead with no pooled connection to have noticed, and its failure
 * is no answer for the caller. The host is forgotten by then, so the second
 * try searches (or joins the search under way) and serves the caller from the
 * host now writable; a search that finds none fails as before (08001). Only a
 * pool can ask again: a pg.Client connects once, so the second try is a new
 * client. Each try is bounded by the pool's connectionTimeoutMillis, so a new
 * connection waits at most twice that, the first time only when the
 * remembered host does not even refuse (a dead machine). Statements are never
 * retried: they are sent only on a connection this returned.
 */
export class PrimaryPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const connecting = super.connect().catch((error: unknown) => {
      if (!failedOnRememberedHost(error)) throw error;
      return super.connect();
    });
    if (!callback) return connecting;
    connecting.then(
      (client) => callback(undefined, client, (release) => client.release(release)),
      (error: Error) => callback(error, undefined, () => undefined),
    );
  }
}

/** What a pg.Pool or pg.Client needs to reach the writable primary named by `databaseUrl`. */
export function connectionOptions(
  databaseUrl: string,
  connectTimeoutMs: number,
): { connectionString: string; Client?: typeof pg.Client } {
  const parsed = parseDatabaseUrl(databaseUrl);
  const [first] = parsed.hosts;
  if (!parsed.selects || !first) return { connectionString: databaseUrl };
  return {
    connectionString: parsed.urlFor(first),
    Client: primaryClientClass(new PrimaryLocator(parsed, connectTimeoutMs)),
  };
}

/**
 * The URL of the host that is the writable primary now, for one-off work
 * (creating the database, migrating) that then connects with plain pg. With
 * `probeDatabase`, hosts are asked on that database (one that exists before
 * Kiosque's own does).
 */
export async function primaryUrl(
  databaseUrl: string,
  connectTimeoutMs: number,
  probeDatabase?: string,
): Promise<string> {
  const parsed = parseDatabaseUrl(databaseUrl);
  if (!parsed.selects) return databaseUrl;
  const probed = probeDatabase
    ? parseDatabaseUrl(databaseUrl.replace(URL_SHAPE, `$1$2$3/${probeDatabase}$5$6`))
    : parsed;
  const { host } = await new PrimaryLocator(probed, connectTimeoutMs).primary();
  return parsed.urlFor(host);
}
