import type { HttpCeiling } from '../parts/http-ceiling.js';
import type { StoreCeilings } from '../parts/store-ceilings.js';

/** What one purchase (create + confirm) asks of each part of the stack. */
export const PER_PURCHASE = { httpRequests: 2, limiterRoundTrips: 2, sqlScripts: 1 } as const;

export interface ComposedCeiling {
  purchasesPerS: number;
  /** Seconds of the machine each part takes per purchase, at its own measured ceiling. */
  shareOfCost: { http: number; redis: number; postgres: number };
}

/**
 * On two cores shared by everything, each part's ceiling is how fast it turns
 * the whole machine into its own work, so the machine-seconds per purchase add:
 * 1 / ceiling = 2 / HTTP req/s + 2 / limiter round trips/s + 1 / SQL purchases/s.
 * That is the best Kiosque could do if its own code cost nothing.
 */
export function composeCeiling(http: HttpCeiling, stores: StoreCeilings): ComposedCeiling {
  const httpS = PER_PURCHASE.httpRequests / http.express.requestsPerS;
  const redisS = PER_PURCHASE.limiterRoundTrips / stores.redis.requestsPerS;
  const postgresS = PER_PURCHASE.sqlScripts / stores.postgres.tps;
  const totalS = httpS + redisS + postgresS;
  const share = (s: number) => Number((s / totalS).toFixed(3));
  return {
    purchasesPerS: Number((1 / totalS).toFixed(1)),
    shareOfCost: { http: share(httpS), redis: share(redisS), postgres: share(postgresS) },
  };
}
