/**
 * Whether an error thrown by Prisma (over @prisma/adapter-pg) or by
 * node-postgres means PostgreSQL could not be reached or could not serve in
 * time, as opposed to a bug or a constraint. Those errors become 503, which
 * tells a client its request may be retried; everything else stays a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return walk(error, 0);
}

/**
 * Prisma: can't reach, timed out reaching, operation timed out, server closed
 * the connection, pool timeout, transaction could not start or expired.
 */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);

/** @prisma/adapter-pg's names for the socket-level failures it recognises. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** Socket errors, as node-postgres passes them on. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * SQLSTATEs: class 08 (connection exception), 53 (insufficient resources),
 * 57 (operator intervention: statement timeout, shutdown, starting up), and
 * lock_not_available (lock_timeout), idle_in_transaction_session_timeout, and
 * read_only_sql_transaction: a primary demoted under a live connection
 * refuses writes while a new primary takes over, so the write may be retried;
 * statement_completion_unknown: a commit its synchronous standby never
 * confirmed (primary-host.ts), which a retry with its key settles.
 */
function unavailableSqlState(code: string): boolean {
  return /^(08|53|57)[0-9A-Z]{3}$/.test(code) || ['55P03', '25P03', '25006', '40003'].includes(code);
}

/** node-postgres reports these without a code. */
const PG_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /Connection terminated/i,
  /Client has encountered a connection error/i,
  /Query read timeout/i,
  /Client was closed and is not queryable/i,
];

function walk(error: unknown, depth: number): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  const e = error as {
    code?: unknown;
    kind?: unknown;
    message?: unknown;
    meta?: { driverAdapterError?: unknown };
    cause?: unknown;
  };
  if (typeof e.code === 'string') {
    if (PRISMA_CODES.has(e.code) || SOCKET_CODES.has(e.code) || unavailableSqlState(e.code)) return true;
  }
  if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.message === 'string' && PG_MESSAGES.some((pattern) => pattern.test(e.message as string))) return true;
  return walk(e.meta?.driverAdapterError, depth + 1) || walk(e.cause, depth + 1);
}
