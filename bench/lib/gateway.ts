import { freePort, startNode, waitForHttp, type NodeProcess } from './proc.js';

export const BENCH_ADMIN_API_KEY = 'bench_admin_key_0123456789';

export interface GatewayEnv {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
}

export function serviceEnv(env: GatewayEnv): Record<string, string> {
  return {
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: env.queuePrefix,
    LOG_LEVEL: 'warn',
    ADMIN_API_KEY: BENCH_ADMIN_API_KEY,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
    // The load generator is one address standing for many clients: the per-address connection cap is not measured.
    MAX_CONNECTIONS_PER_ADDRESS: '0',
  };
}

/** The gateway without workers, for the parts that drive the workers through the API. */
export async function startApiOnly(env: GatewayEnv): Promise<{ origin: string; proc: NodeProcess }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const proc = startNode('src/main.ts', {
    ...serviceEnv(env),
    PORT: String(port),
    PUBLIC_URL: origin,
    RUN_WORKERS: '0',
  });
  await waitForHttp(`${origin}/readyz`, proc);
  return { origin, proc };
}

/** `npm run workers` as its own process, so its memory is its own. */
export function startWorkerProcess(env: GatewayEnv): NodeProcess {
  return startNode('workers/main.ts', serviceEnv(env));
}
