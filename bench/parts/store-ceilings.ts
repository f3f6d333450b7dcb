import { writeFileSync } from 'node:fs';
import type { Config } from '../../src/config.js';
import { capturePurchaseSql } from '../lib/capture.js';
import { subscriberId, subscriberRef, type AssertionCache, type BenchWorld } from '../lib/fixtures.js';
import { progress, round } from '../lib/log.js';
import { pgbenchScript, runPgbench, type PgbenchResult } from '../lib/pgbench.js';
import { limiterTransaction, type RedisBenchmarkResult } from '../lib/redis-benchmark.js';
import type { Scale } from '../lib/scale.js';

export interface StoreCeilings {
  /** One pgbench transaction = every statement of one create + one confirm. */
  postgres: PgbenchResult & { script: string; statementsPerPurchase: number };
  /** One request = the rate limiter's INCR + PEXPIRE NX round trip. */
  redis: RedisBenchmarkResult;
}

export async function storeCeilings(
  scale: Scale,
  config: Config,
  world: BenchWorld,
  tokens: AssertionCache,
  scriptPath: string,
): Promise<StoreCeilings> {
  progress('Store ceilings: capturing the SQL of one create + confirm from the real code');
  const sample = 1;
  const captured = await capturePurchaseSql(config, world, tokens, sample);
  const script = pgbenchScript(captured, {
    purchaseId: captured.purchaseId,
    idempotencyKey: captured.idempotencyKey,
    subscriberId: subscriberId(sample),
    subscriberRef: subscriberRef(sample),
    subscribers: world.subscribers,
  });
  writeFileSync(scriptPath, script);
  const statementsPerPurchase = captured.create.length + captured.confirm.length;
  progress(`  ${statementsPerPurchase} statements per purchase, written to ${scriptPath}`);
  progress(`Store ceilings: pgbench, ${scale.connections} clients for ${scale.loadS} s`);
  const postgres = await runPgbench(config.databaseUrl, scriptPath, scale.connections, scale.loadS);
  if (postgres.failed > 0 || !(postgres.transactions > 0))
    throw new Error(`pgbench failed: ${JSON.stringify(postgres)}`);
  progress(`  ${round(postgres.tps)} purchases/s of SQL, ${postgres.latencyAverageMs} ms average`);
  progress(`Store ceilings: redis-benchmark on the rate limiter's commands, ${scale.connections} clients`);
  const redis = await limiterTransaction(
    config.redisUrl,
    scale.connections,
    Math.max(20_000, Math.round(200_000 * scale.factor)),
  );
  progress(`  ${round(redis.requestsPerS)} limiter round trips/s`);
  return { postgres: { ...postgres, tps: round(postgres.tps), script: scriptPath, statementsPerPurchase }, redis };
}
