import type { ConnectionOptions } from 'bullmq';

/**
 * BullMQ connection settings from REDIS_URL. Each Queue/Worker makes its own
 * connection: a Worker blocks on its connection and must not share it.
 */
export function bullConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
    // Reconnect every 200 ms at most while Redis is away (ioredis backs off to 2 s by default),
    // so that recovery after a restart (src/queue/reconnect.ts) starts within a fraction of a second.
    retryStrategy: (attempt: number) => Math.min(attempt * 50, 200),
  };
}

/**
 * How long a BullMQ Worker waits after an error in its fetch loop (Redis gone)
 * before trying again. BullMQ's default is 15 s, which kept webhook deliveries
 * and billing runs idle for seconds after Redis was back.
 */
export const WORKER_RUN_RETRY_DELAY_MS = 250;
