import { createHmac, randomBytes } from 'node:crypto';

export interface Config {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  publicUrl: string;
  adminApiKey: string;
  /** True when ADMIN_API_KEY was not given and a throwaway one was generated. */
  adminApiKeyGenerated: boolean;
  production: boolean;
  webhookAllowPrivateNetworks: boolean;
  /** Requests per minute per credential before 429; 0 turns the limiter off. */
  rateLimitPerMinute: number;
  runWorkers: boolean;
  /** PostgreSQL connections per process. */
  databasePoolSize: number;
  /** Load shedding (src/http/load-shedding.ts): requests served at once per process. */
  maxInFlight: number;
  /** Load shedding: requests that may wait for a pooled connection before new ones get 503. */
  maxPoolWaiting: number;
  /** Every request is answered within this, 503 when the work did not finish. */
  requestDeadlineMs: number;
  /** Trust one reverse proxy's X-Forwarded-For, so consent evidence records the subscriber's address. */
  trustProxy: boolean;
  /** Signs subscriber session cookies; every gateway process must share it. */
  sessionSecret: string;
  logLevel: string;
  /** Prefix of every Redis key Kiosque writes (BullMQ queues, rate-limit windows); tests give each run its own. */
  queuePrefix: string;
  /** A publisher whose 30-day dispute rate goes above this fraction is suspended when a dispute is opened. */
  disputeRateSuspendThreshold: number;
  /** Below this many confirmed purchases in 30 days the rate says too little to suspend on. */
  disputeRateMinPurchases: number;
}

function fraction(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || parsed > 1) throw new Error(`${name} must be a fraction from 0 to 1, got "${value}"`);
  return parsed;
}

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a whole number, got "${value}"`);
  return parsed;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const port = integer('PORT', env.PORT, 3000);
  const adminApiKeyGiven = env.ADMIN_API_KEY !== undefined && env.ADMIN_API_KEY !== '';
  if (production && !adminApiKeyGiven) throw new Error('ADMIN_API_KEY is required when NODE_ENV=production');
  if (adminApiKeyGiven && (env.ADMIN_API_KEY as string).length < 16) throw new Error('ADMIN_API_KEY must be at least 16 characters');
  const allowPrivate = env.WEBHOOK_ALLOW_PRIVATE_NETWORKS === '1';
  if (production && allowPrivate) throw new Error('WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 is for development and tests only');
  const adminApiKey = adminApiKeyGiven ? (env.ADMIN_API_KEY as string) : `dev_admin_${randomBytes(18).toString('base64url')}`;
  return {
    port,
    databaseUrl: env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/kiosque',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    publicUrl: (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, ''),
    adminApiKey,
    adminApiKeyGenerated: !adminApiKeyGiven,
    production,
    webhookAllowPrivateNetworks: allowPrivate,
    rateLimitPerMinute: integer('RATE_LIMIT_PER_MINUTE', env.RATE_LIMIT_PER_MINUTE, 6000),
    runWorkers: env.RUN_WORKERS !== '0',
    databasePoolSize: integer('DATABASE_POOL_SIZE', env.DATABASE_POOL_SIZE, 10),
    maxInFlight: integer('MAX_IN_FLIGHT', env.MAX_IN_FLIGHT, 512),
    maxPoolWaiting: integer('MAX_POOL_WAITING', env.MAX_POOL_WAITING, 100),
    requestDeadlineMs: integer('REQUEST_DEADLINE_MS', env.REQUEST_DEADLINE_MS, 10_000),
    trustProxy: env.TRUST_PROXY === '1',
    sessionSecret: env.SESSION_SECRET || createHmac('sha256', adminApiKey).update('kiosque session cookies').digest('base64url'),
    queuePrefix: env.QUEUE_PREFIX || 'kiosque',
    disputeRateSuspendThreshold: fraction('DISPUTE_RATE_SUSPEND_THRESHOLD', env.DISPUTE_RATE_SUSPEND_THRESHOLD, 0.01),
    disputeRateMinPurchases: integer('DISPUTE_RATE_MIN_PURCHASES', env.DISPUTE_RATE_MIN_PURCHASES, 100),
    logLevel: env.LOG_LEVEL || (env.NODE_ENV === 'test' ? 'silent' : 'info'),
  };
}
