import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayProcess } from '../support/gateway-process.js';
import { expectInvariants, expectNoServerErrors } from './support/invariants.js';
import { rssKb, startFaultStack, type FaultStack } from './support/stack.js';
import { confirmedCount, makeFixtures, runLoad, TrafficLog, waitUntil } from './support/traffic.js';

const LOCK_HELD_MS = 12_000;
const DEADLINE_MS = 4_000;
const RATE = 3;
const RECOVERY_BOUND_MS = 10_000;

let stack: FaultStack;
let gateway: GatewayProcess;

beforeAll(async () => {
  stack = await startFaultStack('pgslow');
  gateway = await stack.gateway({ REQUEST_DEADLINE_MS: String(DEADLINE_MS), MAX_POOL_WAITING: '10' });
  await stack.workers();
});
afterAll(() => stack?.close());

describe('PostgreSQL slowed by a lock held for seconds, under load', () => {
  it('When the purchases table is locked for 12 s, then requests fail fast with 503 and in-flight requests, latency and memory stay bounded, and service is back once it is released', async () => {
    const log = new TrafficLog('postgres-slow');
    await log.open();
    const fixtures = await makeFixtures(log, gateway.url, 10);
    let running = true;
    // No retries: each journey's requests are in the log once, so what is in flight is what the gateway holds.
    const load = runLoad(log, fixtures, {
      targets: () => [gateway.url],
      ratePerSecond: RATE,
      running: () => running,
      retryForMs: 0,
    });
    await waitUntil(() => confirmedCount(log) >= 5, 120_000, 'traffic flowing');

    const rssBefore = await rssKb(gateway.child.pid as number);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      void rssKb(gateway.child.pid as number).then((kb) => (rssPeak = Math.max(rssPeak, kb)));
    }, 200);
    const locker = await stack.sql.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE purchases IN ACCESS EXCLUSIVE MODE');
    const lockedAt = Date.now();
    log.maxInFlight = log.inFlight;
    await new Promise((r) => setTimeout(r, LOCK_HELD_MS));
    const inFlightPeak = log.maxInFlight;
    await locker.query('ROLLBACK');
    locker.release();
    const releasedAt = Date.now();
    clearInterval(sampler);
    const recoveredAt = await waitUntil(
      () => log.exchanges.some((e) => e.startedAt > releasedAt && e.status === 201),
      RECOVERY_BOUND_MS,
      'first purchase created after the lock was released',
    );
    running = false;
    await load;

    // The fault happened: purchases sent under the lock could not be written, and were told so.
    const underLock = log.exchanges.filter((e) => e.startedAt > lockedAt && e.startedAt < releasedAt - DEADLINE_MS);
    expect(underLock.filter((e) => e.path === '/v1/purchases' && e.status === 201)).toEqual([]);
    expect(underLock.filter((e) => e.status === 503).length).toBeGreaterThan(10);

    // Bounded: nothing waits past its deadline (with room for a starved event loop), so what is
    // in flight stays well under what an unbounded gateway piles up over the whole lock.
    const latencies = underLock.map((e) => e.endedAt - e.startedAt);
    expect(Math.max(...latencies) / DEADLINE_MS).toBeLessThan(2);
    expect(inFlightPeak / (RATE * (LOCK_HELD_MS / 1000))).toBeLessThan(0.75);
    expect(rssPeak / rssBefore).toBeLessThan(1.5);
    expect(recoveredAt - releasedAt).toBeLessThan(RECOVERY_BOUND_MS);

    expectNoServerErrors(log);
    await expectInvariants(stack.sql, log, fixtures, gateway.url);
  });
});
