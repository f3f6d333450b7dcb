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
