import { createIORedisClient, RedisConnection, type ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { clusterNodes, redisCredentials } from '../store/redis.js';

/**
 * BullMQ connection settings from REDIS_URL. Each Queue/Worker makes its own
 * connection: a Worker blocks on its connection and must not share it.
 */
export function bullConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...redisCredentials(redisUrl),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
    // Reconnect every 200 ms at most while Redis is away (ioredis backs off to 2 s by default),
    // so that recovery after a restart (src/queue/reconnect.ts) starts within a fraction of a second.
    retryStrategy: (attempt: number) => Math.min(attempt * 50, 200),
  };
}

/**
 * Makes every BullMQ connection of this process a Redis Cluster client. BullMQ
 * still opens (and closes) one per Queue and Worker, from this factory; the
 * queue prefix must then be hash-tagged (config does it) so that each queue's
 * keys live in one slot.
 */
export function useRedisCluster(nodes: readonly string[], redisUrl: string): void {
  RedisConnection.clientFactory = (options) =>
    createIORedisClient(
      new Cluster(clusterNodes(nodes), {
        redisOptions: { ...redisCredentials(redisUrl), maxRetriesPerRequest: options.maxRetriesPerRequest ?? null },
      }),
    );
}

/**
 * How long a BullMQ Worker waits after an error in its fetch loop (Redis gone)
 * before trying again. BullMQ's default is 15 s, which kept webhook deliveries
 * and billing runs idle for seconds after Redis was back.
 */
export const WORKER_RUN_RETRY_DELAY_MS = 250;
