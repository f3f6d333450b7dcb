import { Redis } from 'ioredis';

/**
 * The gateway's own Redis connection (BullMQ makes its own). Redis is a cache
 * here, so a call must fail fast rather than queue while Redis is away: with an
 * offline queue and unlimited retries, every request would hang until Redis
 * came back.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 250 });
}
