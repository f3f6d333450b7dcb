import { createHmac, randomBytes } from 'node:crypto';
import { electronicFormatIBAN, isValidBIC, isValidIBAN } from 'ibantools';
import { DEFAULT_DB_TIMEOUTS, type DbTimeouts } from './store/db-timeouts.js';

export interface Config {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  /** Redis Cluster seed nodes ("host:port"); when given, REDIS_URL only lends its credentials. */
  redisClusterNodes: string[];
  publicUrl: string;
  adminApiKey: string;
  /** True when ADMIN_API_KEY was not given and a throwaway one was generated. */
  adminApiKeyGenerated: boolean;
  production: boolean;
  webhookAllowPrivateNetworks: boolean;
  /** Requests per minute per credential before 429; 0 turns the limiter off. */
  rateLimitPerMinute: number;
  /** Failed authentications per minute per address and per credential before 429; 0 turns the throttle off. */
  authFailuresPerMinute: number;
  runWorkers: boolean;
  /** PostgreSQL connections per process. */
  databasePoolSize: number;
  /** How long a request may wait at the database (pool, lock, statement) before it is answered 503. */
  databaseTimeouts: DbTimeouts;
  /** Load shedding (src/http/load-shedding.ts): requests served at once per process. */
  maxInFlight: number;
  /** Load shedding: requests that may wait for a pooled connection before new ones get 503. */
  maxPoolWaiting: number;
  /** Every request is answered within this, 503 when the work did not finish. */
  requestDeadlineMs: number;
  /** Trust one reverse proxy's X-Forwarded-For, so consent evidence records the subscriber's address. */
  trustProxy: boolean;
  /** A request must have fully arrived this long after its first byte, or its connection is closed (408). */
  requestReceiveTimeoutMs: number;
  /** Connections held at once from one peer address, idle or not; more are closed at once. 0: no cap. */
  maxConnectionsPerAddress: number;
  /** Signs subscriber session cookies; every gateway process must share it. */
  sessionSecret: string;
  logLevel: string;
  /** Prefix of every Redis key Kiosque writes (BullMQ queues, rate-limit windows); tests give each run its own. */
  queuePrefix: string;
  /** A publisher whose 30-day dispute rate goes above this fraction is suspended when a dispute is opened. */
  disputeRateSuspendThreshold: number;
  /** Below this many confirmed purchases in 30 days the rate says too little to suspend on. */
  disputeRateMinPurchases: number;
  /** How long an Idempotency-Key is honoured (replayed) before the purge forgets it; at least 24 hours. */
  idempotencyKeyRetentionHours: number;
  /** Port of a worker process's /healthz, /readyz and /metrics; null serves none. */
  workerMetricsPort: number | null;
  /** Kiosque's own bank account: the debtor of payout files, the account of the statements it imports. */
  kiosqueAccount: KiosqueAccount;
}

export interface KiosqueAccount {
  /** Electronic format: no spaces, upper case. */
  iban: string;
  bic: string;
  legalName: string;
}

/** Development defaults: a well-formed French IBAN of no real account, never for production. */
const DEVELOPMENT_ACCOUNT: KiosqueAccount = {
  iban: 'FR7630006000011234567890189',
  bic: 'AGRIFRPP',
  legalName: 'Kiosque SAS',
};

function kiosqueAccount(env: NodeJS.ProcessEnv): KiosqueAccount {
  const iban = electronicFormatIBAN(env.KIOSQUE_IBAN || DEVELOPMENT_ACCOUNT.iban) ?? '';
  if (!isValidIBAN(iban)) throw new Error(`KIOSQUE_IBAN is not a valid IBAN, got "${env.KIOSQUE_IBAN}"`);
  const bic = (env.KIOSQUE_BIC || DEVELOPMENT_ACCOUNT.bic).toUpperCase();
  if (!isValidBIC(bic)) throw new Error(`KIOSQUE_BIC is not a valid BIC, got "${env.KIOSQUE_BIC}"`);
  return { iban, bic, legalName: env.KIOSQUE_LEGAL_NAME || DEVELOPMENT_ACCOUNT.legalName };
}

function fraction(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || parsed > 1)
    throw new Error(`${name} must be a fraction from 0 to 1, got "${value}"`);
  return parsed;
}

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a whole number, got "${value}"`);
  return parsed;
}

/**
 * The database deadlines of DEFAULT_DB_TIMEOUTS, each settable: a deployment
 * whose hot subscribers queue longer than two seconds for their lock may
 * rather wait than answer 503. The client-side query timeout follows the
 * statement timeout, a second later, so PostgreSQL cancels first.
 */
function databaseTimeouts(env: NodeJS.ProcessEnv): DbTimeouts {
  const statementMs = integer(
    'DATABASE_STATEMENT_TIMEOUT_MS',
    env.DATABASE_STATEMENT_TIMEOUT_MS,
    DEFAULT_DB_TIMEOUTS.statementMs,
  );
  return {
    ...DEFAULT_DB_TIMEOUTS,
    poolWaitMs: integer('DATABASE_POOL_WAIT_MS', env.DATABASE_POOL_WAIT_MS, DEFAULT_DB_TIMEOUTS.poolWaitMs),
    lockMs: integer('DATABASE_LOCK_TIMEOUT_MS', env.DATABASE_LOCK_TIMEOUT_MS, DEFAULT_DB_TIMEOUTS.lockMs),
    statementMs,
    queryMs: statementMs + DEFAULT_DB_TIMEOUTS.queryMs - DEFAULT_DB_TIMEOUTS.statementMs,
  };
}

/** A client retrying a request must find its key again; a day is the least a sane retry schedule needs. */
export const MIN_IDEMPOTENCY_KEY_RETENTION_HOURS = 24;

function retentionHours(value: string | undefined): number {
  const hours = integer('IDEMPOTENCY_KEY_RETENTION_HOURS', value, 72);
  if (hours < MIN_IDEMPOTENCY_KEY_RETENTION_HOURS) {
    throw new Error(
      `IDEMPOTENCY_KEY_RETENTION_HOURS must be at least ${MIN_IDEMPOTENCY_KEY_RETENTION_HOURS}, got "${value}"`,
    );
  }
  return hours;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const port = integer('PORT', env.PORT, 3000);
  const adminApiKeyGiven = env.ADMIN_API_KEY !== undefined && env.ADMIN_API_KEY !== '';
  if (production && !adminApiKeyGiven) throw new Error('ADMIN_API_KEY is required when NODE_ENV=production');
  if (adminApiKeyGiven && (env.ADMIN_API_KEY as string).length < 16)
    throw new Error('ADMIN_API_KEY must be at least 16 characters');
  const allowPrivate = env.WEBHOOK_ALLOW_PRIVATE_NETWORKS === '1';
  if (production && allowPrivate) throw new Error('WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 is for development and tests only');
  const redisClusterNodes = (env.REDIS_CLUSTER_NODES ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const prefix = env.QUEUE_PREFIX || 'kiosque';
  const adminApiKey = adminApiKeyGiven
    ? (env.ADMIN_API_KEY as string)
    : `dev_admin_${randomBytes(18).toString('base64url')}`;
  return {
    port,
    databaseUrl: env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/kiosque',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    redisClusterNodes,
    publicUrl: (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, ''),
    adminApiKey,
    adminApiKeyGenerated: !adminApiKeyGiven,
    production,
    webhookAllowPrivateNetworks: allowPrivate,
    rateLimitPerMinute: integer('RATE_LIMIT_PER_MINUTE', env.RATE_LIMIT_PER_MINUTE, 6000),
    authFailuresPerMinute: integer('AUTH_FAILURES_PER_MINUTE', env.AUTH_FAILURES_PER_MINUTE, 20),
    runWorkers: env.RUN_WORKERS !== '0',
    databasePoolSize: integer('DATABASE_POOL_SIZE', env.DATABASE_POOL_SIZE, 10),
    databaseTimeouts: databaseTimeouts(env),
    maxInFlight: integer('MAX_IN_FLIGHT', env.MAX_IN_FLIGHT, 512),
    maxPoolWaiting: integer('MAX_POOL_WAITING', env.MAX_POOL_WAITING, 100),
    requestDeadlineMs: integer('REQUEST_DEADLINE_MS', env.REQUEST_DEADLINE_MS, 10_000),
    trustProxy: env.TRUST_PROXY === '1',
    requestReceiveTimeoutMs: integer('REQUEST_RECEIVE_TIMEOUT_MS', env.REQUEST_RECEIVE_TIMEOUT_MS, 15_000),
    // Behind a proxy every connection comes from the proxy's address: the proxy caps its clients instead.
    maxConnectionsPerAddress: integer(
      'MAX_CONNECTIONS_PER_ADDRESS',
      env.MAX_CONNECTIONS_PER_ADDRESS,
      env.TRUST_PROXY === '1' ? 0 : 128,
    ),
    sessionSecret:
      env.SESSION_SECRET || createHmac('sha256', adminApiKey).update('kiosque session cookies').digest('base64url'),
    // On a cluster every key must hash to one slot (BullMQ's scripts touch several keys of a queue at once).
    queuePrefix: redisClusterNodes.length && !/\{.+\}/.test(prefix) ? `{${prefix}}` : prefix,
    disputeRateSuspendThreshold: fraction('DISPUTE_RATE_SUSPEND_THRESHOLD', env.DISPUTE_RATE_SUSPEND_THRESHOLD, 0.01),
    disputeRateMinPurchases: integer('DISPUTE_RATE_MIN_PURCHASES', env.DISPUTE_RATE_MIN_PURCHASES, 100),
    idempotencyKeyRetentionHours: retentionHours(env.IDEMPOTENCY_KEY_RETENTION_HOURS),
    workerMetricsPort: env.WORKER_METRICS_PORT ? integer('WORKER_METRICS_PORT', env.WORKER_METRICS_PORT, 0) : null,
    logLevel: env.LOG_LEVEL || (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    kiosqueAccount: kiosqueAccount(env),
  };
}
