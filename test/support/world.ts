import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../../src/config.js';
import {
  assertion,
  createOperator,
  createPublisher,
  provision,
  startTestGateway,
  type OperatorFixture,
  type PublisherFixture,
  type TestGateway,
} from './harness.js';

/*
 * The set-up every integration test file shares, declared once at the top of
 * the file instead of copied into its own beforeAll/afterAll:
 *
 *   const gw = useGateway();
 *   const operator = useOperator(gw);
 *   const publisher = usePublisher(gw, { category: 'games' });
 *   const subscriber = useSubscriber(gw, operator);
 *
 * Each call registers its own hooks. The gateway exists at once (its
 * connections open on first use) and closes after the file's last test, after
 * every hook registered later (Vitest runs afterAll hooks in reverse). Parties
 * are created through the admin and operator APIs before the file's first
 * test; until then the object returned is empty, so read its fields inside
 * hooks and tests, never at the top level of the file.
 */

/** This file's gateway over the test database and Redis, closed after its last test. */
export function useGateway(overrides: Partial<Config> = {}): TestGateway {
  const gw = startTestGateway(overrides);
  afterAll(() => gw.close());
  return gw;
}

function filledBeforeAll<T extends object>(make: () => Promise<T>): T {
  const fixture = {} as T;
  beforeAll(async () => {
    Object.assign(fixture, await make());
  });
  return fixture;
}

/** An operator created through the admin API before the file's first test. */
export function useOperator(gw: TestGateway, body: Record<string, unknown> = {}): OperatorFixture {
  return filledBeforeAll(() => createOperator(gw, body));
}

/** A publisher created through the admin API before the file's first test. */
export function usePublisher(gw: TestGateway, body: Record<string, unknown> = {}): PublisherFixture {
  return filledBeforeAll(() => createPublisher(gw, body));
}

export interface SubscriberFixture {
  externalRef: string;
  /** An assertion for this subscriber, as the operator's portal mints it. */
  token: string;
}

/** A subscriber provisioned by `operator` before the file's first test, with an assertion for it. */
export function useSubscriber(
  gw: TestGateway,
  operator: OperatorFixture,
  body: Record<string, unknown> = {},
): SubscriberFixture {
  return filledBeforeAll(async () => {
    const externalRef = await provision(gw, operator, undefined, body);
    return { externalRef, token: assertion(operator, externalRef) };
  });
}
