import { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** "host:port" seed nodes of a Redis Cluster. */
export function clusterNodes(nodes: readonly string[]): { host: string; port: number }[] {
  return nodes.map((node) => {
    const [host, port] = node.split(':');
    return { host: host || '127.0.0.1', port: Number(port || 6379) };
  });
}

/** Credentials carried by REDIS_URL, for cluster nodes too. */
export function redisCredentials(url: string): { username?: string; password?: string } {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/**
 * The gateway's own Redis connection (BullMQ makes its own). Redis is a cache
 * here, so a call must fail fast rather than queue while Redis is away: with an
 * offline queue and unlimited retries, every request would hang until Redis
 * came back.
 */
export function createRedis(url: string, cluster: readonly string[] = []): RedisClient {
  const failFast = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 250 } as const;
  if (!cluster.length) return new Redis(url, failFast);
  return new Cluster(clusterNodes(cluster), {
    enableOfflineQueue: false,
    redisOptions: { ...failFast, ...redisCredentials(url) },
  });
}
