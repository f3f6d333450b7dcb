import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { summarize, type LatencySummary } from './stats.js';

export interface OpenLoopOptions {
  origin: string;
  purchasesPerS: number;
  durationS: number;
  /** Time between a purchase's create and its confirm, as between a buyer's two clicks. */
  confirmDelayMs: number;
  publisherAuth: string;
  confirmAuth: () => string;
  keyPrefix: string;
  /** A JSON body for each confirmation (Kiosque Points: `{"points": n}`); none by default. */
  confirmBody?: string;
}

export interface OpenLoopResult {
  offeredPerS: number;
  create: LatencySummary;
  confirm: LatencySummary;
  confirmed: number;
  declined: number;
  failed: number;
}

const BODY = JSON.stringify({ amount: '0.01', currency: 'EUR', description: 'Benchmark article', channel: 'isp' });

/**
 * A fixed-schedule (open-loop) driver: purchase i is created at t0 + i/rate and
 * confirmed confirmDelayMs later, whatever happened to earlier ones, and each
 * latency is counted from the request's scheduled time, not from when it was
 * sent. A slow answer therefore cannot slow the offered load down and hide its
 * own queueing (coordinated omission), which is what closed-loop tools such as
 * autocannon do. wrk2 does this too but is not packaged by Debian.
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const pool = new Pool(options.origin, { connections: 128, pipelining: 1 });
  const total = Math.round(options.purchasesPerS * options.durationS);
  const intervalMs = 1000 / options.purchasesPerS;
  const createLatencies: number[] = [];
  const confirmLatencies: number[] = [];
  let confirmed = 0;
  let declined = 0;
  let failed = 0;
  const t0 = performance.now() + 200;

  const atTime = (scheduledMs: number) =>
    new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, scheduledMs - performance.now())));

  const purchase = async (i: number) => {
    const createAt = t0 + i * intervalMs;
    await atTime(createAt);
    const created = await pool.request({
      method: 'POST',
      path: '/v1/purchases',
      headers: {
        authorization: options.publisherAuth,
        'content-type': 'application/json',
        'idempotency-key': `${options.keyPrefix}-${i}`,
      },
      body: BODY,
    });
    const createdBody = (await created.body.json()) as { id?: string };
    createLatencies.push(performance.now() - createAt);
    if (created.statusCode !== 201 || !createdBody.id) {
      failed += 1;
      return;
    }
    const confirmAt = createAt + options.confirmDelayMs;
    await atTime(confirmAt);
    const answer = await pool.request({
      method: 'POST',
      path: `/v1/purchases/${createdBody.id}/confirm`,
      headers: {
        authorization: options.confirmAuth(),
        ...(options.confirmBody ? { 'content-type': 'application/json' } : {}),
      },
      ...(options.confirmBody ? { body: options.confirmBody } : {}),
    });
    await answer.body.dump();
    confirmLatencies.push(performance.now() - confirmAt);
    if (answer.statusCode === 200) confirmed += 1;
    else if (answer.statusCode === 402) declined += 1;
    else failed += 1;
  };

  try {
    await Promise.all(Array.from({ length: total }, (_, i) => purchase(i)));
  } finally {
    await pool.close();
  }
  return {
    offeredPerS: options.purchasesPerS,
    create: summarize(createLatencies),
    confirm: summarize(confirmLatencies),
    confirmed,
    declined,
    failed,
  };
}
