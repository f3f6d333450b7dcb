import { appendFile, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import jwt from 'jsonwebtoken';
import { onTestFinished } from 'vitest';
import { TEST_ADMIN_API_KEY } from '../../support/env.js';

/** Where traffic logs of failed fault tests are kept: inside the repository, and ignored by git. */
export const FAULT_LOG_DIR = resolve(import.meta.dirname, '..', '..', '..', 'test-artifacts', 'faults');

/** One request and what came back (or how it failed), as the client saw it. */
export interface Exchange {
  seq: number;
  journey: number;
  target: string;
  method: string;
  path: string;
  key: string | null;
  request: unknown;
  startedAt: number;
  endedAt: number;
  status: number | null;
  retryAfter: string | null;
  body: unknown;
  error: string | null;
}

/**
 * Every request the fault tests send goes through here and is kept, and
 * appended as JSON lines to a file under test-artifacts/faults, so the checks
 * afterwards, and a person reading a failure, see every request and answer.
 * The file is removed when its test passes and kept (its path printed) when it fails.
 */
export class TrafficLog {
  readonly exchanges: Exchange[] = [];
  readonly file: string;
  private seq = 0;
  private pending: Promise<void> = Promise.resolve();
  inFlight = 0;
  maxInFlight = 0;
  private readonly inFlightByTarget = new Map<string, number>();

  /** Requests sent to `target` and not answered yet. */
  inFlightTo(target: string): number {
    return this.inFlightByTarget.get(target) ?? 0;
  }

  constructor(name: string) {
    this.file = join(FAULT_LOG_DIR, `${name}-${Date.now()}.jsonl`);
  }

  async send(
    target: string,
    method: string,
    path: string,
    options: { token?: string; key?: string; body?: unknown; journey?: number; timeoutMs?: number } = {},
  ): Promise<Exchange> {
    const exchange: Exchange = {
      seq: ++this.seq,
      journey: options.journey ?? 0,
      target,
      method,
      path,
      key: options.key ?? null,
      request: options.body ?? null,
      startedAt: Date.now(),
      endedAt: 0,
      status: null,
      retryAfter: null,
      body: null,
      error: null,
    };
    this.inFlight += 1;
    this.inFlightByTarget.set(target, this.inFlightTo(target) + 1);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.key) headers['idempotency-key'] = options.key;
      const res = await fetch(`${target}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
      exchange.status = res.status;
      exchange.retryAfter = res.headers.get('retry-after');
      const text = await res.text();
      try {
        exchange.body = JSON.parse(text);
      } catch {
        exchange.body = text.slice(0, 500);
      }
    } catch (error) {
      exchange.error = (error as Error).cause ? String((error as Error).cause) : String(error);
    } finally {
      this.inFlight -= 1;
      this.inFlightByTarget.set(target, this.inFlightTo(target) - 1);
      exchange.endedAt = Date.now();
    }
    this.exchanges.push(exchange);
    this.pending = this.pending.then(() => appendFile(this.file, `${JSON.stringify(exchange)}\n`));
    return exchange;
  }

  async flush(): Promise<void> {
    await this.pending;
  }

  /** Called in the test that sends the traffic: its outcome decides whether the file is kept. */
  async open(): Promise<void> {
    await mkdir(FAULT_LOG_DIR, { recursive: true });
    onTestFinished(async ({ task }) => {
      await this.flush();
      if (task.result?.state === 'pass') return rm(this.file, { force: true });
      console.log(`fault test traffic log kept: ${this.file}`);
    });
  }
}

export interface Fixtures {
  operator: { id: string; apiKey: string; assertionSecret: string };
  publisher: { id: string; apiKey: string };
  subscribers: string[];
}

export function assertionFor(operator: Fixtures['operator'], ref: string): string {
  return jwt.sign({}, operator.assertionSecret, {
    algorithm: 'HS256',
    issuer: operator.id,
    subject: ref,
    audience: 'kiosque',
    expiresIn: 300,
  });
}

const ADMIN = TEST_ADMIN_API_KEY;

/** An operator (with room in its ceilings), a publisher and `count` subscribers, made through the API. */
export async function makeFixtures(
  log: TrafficLog,
  target: string,
  count: number,
  publisherBody: Record<string, unknown> = {},
): Promise<Fixtures> {
  const op = await log.send(target, 'POST', '/v1/admin/operators', {
    token: ADMIN,
    body: {
      name: 'Fault Operator',
      brand: 'FaultNet',
      limits: { perPurchase: '30.00', weekly: '300.00', monthly: '300.00' },
    },
  });
  const pub = await log.send(target, 'POST', '/v1/admin/publishers', {
    token: ADMIN,
    body: { name: 'Fault Press', category: 'press', ...publisherBody },
  });
  if (op.status !== 201 || pub.status !== 201)
    throw new Error(`fixtures failed: ${JSON.stringify([op.body, pub.body])}`);
  const operator = op.body as Fixtures['operator'];
  const subscribers: string[] = [];
  for (let i = 0; i < count; i++) {
    const ref = `fault-sub-${i}`;
    const put = await log.send(target, 'PUT', `/v1/operator/subscribers/${ref}`, { token: operator.apiKey, body: {} });
    if (put.status !== 201 && put.status !== 200) throw new Error(`provisioning failed: ${JSON.stringify(put.body)}`);
    subscribers.push(ref);
  }
  return { operator, publisher: pub.body as Fixtures['publisher'], subscribers };
}

const AMOUNTS = ['0.50', '1.00', '1.50', '2.00'];
/** Pause before retrying a cut or refused connection; a 503 says its own pause in Retry-After. */
const RETRY_PAUSE_MS = 1_000;

export interface LoadOptions {
  targets: () => string[];
  ratePerSecond: number;
  /** New journeys start until this says stop; the load then waits for the journeys under way. */
  running: () => boolean;
  /** How long one journey keeps retrying a request that failed for want of service. */
  retryForMs?: number;
  /** Journeys that refund part of their purchase, 0 to 1. */
  refundShare?: number;
  /** Per-request client timeout. */
  timeoutMs?: number;
}

/**
 * Open-loop traffic: a new purchase journey (create, confirm, sometimes
 * refund) starts every 1/rate seconds whatever the earlier ones are doing, as
 * real users would. A request that fails for want of service (503, a refused
 * or cut connection) is retried after its Retry-After with the same
 * Idempotency-Key, on the next gateway, for a while; every try is in the log.
 */
export async function runLoad(log: TrafficLog, fixtures: Fixtures, options: LoadOptions): Promise<void> {
  const retryForMs = options.retryForMs ?? 30_000;
  const refundShare = options.refundShare ?? 0.25;
  let turn = 0;
  const pick = () => {
    const targets = options.targets();
    return targets[turn++ % targets.length] as string;
  };
  const attempt = async (
    journey: number,
    method: string,
    path: string,
    opts: { token: string; key?: string; body?: unknown },
  ) => {
    const giveUpAt = Date.now() + retryForMs;
    for (;;) {
      const exchange = await log.send(pick(), method, path, { ...opts, journey, timeoutMs: options.timeoutMs });
      const retryable = exchange.status === null || exchange.status === 503;
      if (!retryable || Date.now() > giveUpAt) return exchange;
      const pause = exchange.retryAfter === null ? RETRY_PAUSE_MS : Number(exchange.retryAfter) * 1000;
      await new Promise((r) => setTimeout(r, pause));
    }
  };
  const journey = async (n: number) => {
    const ref = fixtures.subscribers[n % fixtures.subscribers.length] as string;
    const amount = AMOUNTS[n % AMOUNTS.length] as string;
    const created = await attempt(n, 'POST', '/v1/purchases', {
      token: fixtures.publisher.apiKey,
      key: `purchase-${n}`,
      body: { amount, currency: 'EUR', description: `Article ${n}`, channel: 'isp' },
    });
    if (created.status !== 201) return;
    const id = (created.body as { id: string }).id;
    const confirmed = await attempt(n, 'POST', `/v1/purchases/${id}/confirm`, {
      token: assertionFor(fixtures.operator, ref),
    });
    if (confirmed.status !== 200 || (n % 100) / 100 >= refundShare) return;
    await attempt(n, 'POST', `/v1/purchases/${id}/refunds`, {
      token: fixtures.publisher.apiKey,
      key: `refund-${n}`,
      body: { amount: '0.30' },
    });
  };
  const journeys: Promise<void>[] = [];
  const started = Date.now();
  const interval = 1000 / options.ratePerSecond;
  for (let n = 0; options.running(); n++) {
    journeys.push(journey(n));
    const next = started + (n + 1) * interval;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  await Promise.all(journeys);
  await log.flush();
}

/** Confirmations answered 200 so far: the fault tests wait for traffic to flow before they strike. */
export const confirmedCount = (log: TrafficLog) =>
  log.exchanges.filter((e) => e.status === 200 && e.path.endsWith('/confirm')).length;

/** Polls `check` every 50 ms until it holds; resolves with the time it first held, or throws after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
