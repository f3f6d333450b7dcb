import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayProcess } from '../support/gateway-process.js';
import { expectInvariants, expectNoServerErrors } from './support/invariants.js';
import { startFaultStack, type FaultStack } from './support/stack.js';
import { confirmedCount, makeFixtures, runLoad, TrafficLog, waitUntil } from './support/traffic.js';

/** The bound is "within seconds"; generous for a loaded two-core machine. */
const RECOVERY_BOUND_MS = 10_000;
const OUTAGE_MS = 5_000;

let stack: FaultStack;
let gateways: GatewayProcess[];

beforeAll(async () => {
  stack = await startFaultStack('pgdown');
  gateways = [await stack.gateway()];
  await stack.workers();
});
afterAll(() => stack?.close());

describe('PostgreSQL stopped, then started, under load', () => {
  it('When PostgreSQL stops under load, then requests get 503 with Retry-After (never 500, never a 2xx without its row), and service is back within seconds of its start', async () => {
    const log = new TrafficLog('postgres-down');
    await log.open();
    const [first] = gateways as [GatewayProcess];
    const fixtures = await makeFixtures(log, first.url, 10);

    let running = true;
    const load = runLoad(log, fixtures, {
      targets: () => gateways.map((g) => g.url),
      ratePerSecond: 2,
      running: () => running,
      retryForMs: 25_000,
    });
    await waitUntil(() => confirmedCount(log) >= 5, 120_000, 'traffic flowing');
    await stack.postgres.stop('fast');
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    // pg_ctl returns a little after the server accepts connections: a request may be served in between.
    const startingAt = Date.now();
    await stack.postgres.start();
    const startedAt = Date.now();
    const recoveredAt = await waitUntil(
      () => log.exchanges.some((e) => e.startedAt > startedAt && e.status !== null && e.status < 300),
      RECOVERY_BOUND_MS,
      'first 2xx after PostgreSQL started',
    );
    running = false;
    await load;

    // The fault happened: requests sent while the server was down failed, with 503.
    const duringOutage = log.exchanges.filter((e) => e.startedAt > stoppedAt && e.endedAt < startingAt);
    expect(duringOutage.length).toBeGreaterThan(5);
    expect(duringOutage.filter((e) => e.status !== null && e.status < 300)).toEqual([]);
    expect(duringOutage.filter((e) => e.status === 503).length).toBeGreaterThan(5);
    expect(recoveredAt - startedAt).toBeLessThan(RECOVERY_BOUND_MS);

    expectNoServerErrors(log);
    await expectInvariants(stack.sql, log, fixtures, first.url);
  });
});
