import { writeFileSync } from 'node:fs';
import type { Config } from '../../src/config.js';
import { capturePurchaseSql } from '../lib/capture.js';
import { subscriberId, subscriberRef, type AssertionCache, type BenchWorld } from '../lib/fixtures.js';
import { progress, round } from '../lib/log.js';
import { withClient } from '../lib/database.js';
import { OPEN_LOOP_PURCHASES_PER_S } from './kiosque.js';
import {
  pgbenchScript,
  runPgbench,
  runPgbenchAtRate,
  type PgbenchLatency,
  type PgbenchResult,
} from '../lib/pgbench.js';
import { limiterTransaction, type RedisBenchmarkResult } from '../lib/redis-benchmark.js';
import type { Scale } from '../lib/scale.js';

export interface StoreCeilings {
  /** One pgbench transaction = every statement of one create + one confirm. */
  postgres: PgbenchResult & { script: string; statementsPerPurchase: number };
  /** One request = the rate limiter's INCR + PEXPIRE NX round trip. */
  redis: RedisBenchmarkResult;
  /**
   * PostgreSQL's own latency at the open loop's rate, without the gateway: what
   * a confirmation's p99 cannot go below on this machine.
   */
  floors: {
    /** The captured create + confirm statements, 100 purchases/s. */
    purchaseSql: PgbenchLatency;
    /** One single-row INSERT, its own durable commit, at the open loop's 200 commits/s. */
    commit: PgbenchLatency;
  };
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
  const floors = await latencyFloors(config.databaseUrl, scriptPath, scale);
  return {
    postgres: { ...postgres, tps: round(postgres.tps), script: scriptPath, statementsPerPurchase },
    redis,
    floors,
  };
}

async function latencyFloors(
  databaseUrl: string,
  purchaseScriptPath: string,
  scale: Scale,
): Promise<StoreCeilings['floors']> {
  const rate = OPEN_LOOP_PURCHASES_PER_S;
  progress(`Latency floors: pgbench at ${rate} purchases/s for ${scale.openLoopS} s, every latency logged`);
  const purchaseSql = await runPgbenchAtRate(databaseUrl, purchaseScriptPath, 4, rate, scale.openLoopS);
  progress(`  purchase SQL p50 ${purchaseSql.p50Ms} ms, p99 ${purchaseSql.p99Ms} ms`);
  await withClient(databaseUrl, (client) =>
    client.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY)'),
  );
  const commitScriptPath = purchaseScriptPath.replace(/\.sql$/, '') + '-commit.sql';
  writeFileSync(commitScriptPath, 'INSERT INTO bench_commit_probe DEFAULT VALUES;\n');
  const commit = await runPgbenchAtRate(databaseUrl, commitScriptPath, 4, rate * 2, scale.openLoopS);
  progress(`  lone commit p50 ${commit.p50Ms} ms, p99 ${commit.p99Ms} ms`);
  return { purchaseSql, commit };
}
