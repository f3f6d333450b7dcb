import { Redis } from 'ioredis';

export function createRedis(url: string): Redis {
  // BullMQ needs maxRetriesPerRequest: null on connections it blocks on; the
  // gateway's own calls are wrapped so a Redis outage degrades, not fails.
  return new Redis(url, { maxRetriesPerRequest: null, enableOfflineQueue: true });
}
