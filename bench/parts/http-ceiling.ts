import { runAutocannon } from '../lib/autocannon.js';
import { progress, round } from '../lib/log.js';
import { freePort, startNode, waitForHttp } from '../lib/proc.js';
import type { Scale } from '../lib/scale.js';
import { REQUEST_BODY } from '../servers/reply.js';

export interface HttpRun {
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

export interface HttpCeiling {
  bare: HttpRun;
  /** Kiosque's middleware, limiter off: the HTTP share of the composed ceiling. */
  express: HttpRun;
  /** Kiosque's middleware with the Redis rate limiter on, as the gateway runs it. */
  expressWithLimiter: HttpRun;
}

async function measure(label: string, entry: string, env: Record<string, string>, scale: Scale): Promise<HttpRun> {
  const port = await freePort();
  const server = startNode(entry, { PORT: String(port), ...env });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, server);
    const options = {
      url: `http://127.0.0.1:${port}/v1/purchases`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer kq_pub_benchmark' },
      body: REQUEST_BODY,
      connections: scale.connections,
    };
    await runAutocannon({ ...options, duration: 2 });
    progress(`HTTP ceiling: ${label}, ${scale.connections} connections for ${scale.loadS} s`);
    const result = await runAutocannon({ ...options, duration: scale.loadS });
    const run = {
      requestsPerS: round(result.requests.average),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
    };
    progress(`  ${run.requestsPerS} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms`);
    return run;
  } finally {
    await server.stop();
  }
}

/** Same request, same reply bytes, same connections: node alone, then Kiosque's middleware in front. */
export async function httpCeiling(scale: Scale, redisUrl: string): Promise<HttpCeiling> {
  const expressEnv = {
    LOG_LEVEL: 'warn',
    REDIS_URL: redisUrl,
    NODE_ENV: 'production',
    ADMIN_API_KEY: 'bench_admin_key_0123456789',
  };
  return {
    bare: await measure('bare node:http', 'bench/servers/bare-http.ts', {}, scale),
    express: await measure(
      'Express + Kiosque middleware, limiter off',
      'bench/servers/express-stack.ts',
      { ...expressEnv, RATE_LIMIT_PER_MINUTE: '0' },
      scale,
    ),
    expressWithLimiter: await measure(
      'Express + Kiosque middleware + Redis rate limiter',
      'bench/servers/express-stack.ts',
      { ...expressEnv, RATE_LIMIT_PER_MINUTE: '1000000000' },
      scale,
    ),
  };
}
