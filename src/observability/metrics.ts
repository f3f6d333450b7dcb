import type { Job, Queue, Worker } from 'bullmq';
import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One registry per process, as Prometheus scrapes processes: every app, worker,
 * queue and pool of this process reports into it. Metrics are observed from
 * the outside (HTTP responses, BullMQ worker events, pg pool state) so the
 * domain code stays free of them.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });
const registers = [registry];

export const httpRequests = new Counter({
  name: 'kiosque_http_requests_total',
  help: 'HTTP requests answered, by method, route template and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers,
});

export const httpDuration = new Histogram({
  name: 'kiosque_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method and route template',
  labelNames: ['method', 'route'] as const,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers,
});

export const confirmations = new Counter({
  name: 'kiosque_confirmations_total',
  help: 'Purchases and subscriptions confirmed by their subscriber (API and consent pages)',
  labelNames: ['kind'] as const,
  registers,
});

export const declines = new Counter({
  name: 'kiosque_declines_total',
  help: 'Confirmations declined (402), by decline code',
  labelNames: ['code'] as const,
  registers,
});

export const ceilingsHit = new Counter({
  name: 'kiosque_ceilings_hit_total',
  help: 'Declines because a spend ceiling would have been passed, by ceiling',
  labelNames: ['ceiling'] as const,
  registers,
});

export const jobDuration = new Histogram({
  name: 'kiosque_job_duration_seconds',
  help: 'Time a BullMQ job ran, by queue, job name and outcome',
  labelNames: ['queue', 'name', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
  registers,
});

export const jobFailures = new Counter({
  name: 'kiosque_job_failures_total',
  help: 'BullMQ job attempts that threw or stalled, by queue and job name',
  labelNames: ['queue', 'name'] as const,
  registers,
});

export const webhookAttempts = new Counter({
  name: 'kiosque_webhook_attempts_total',
  help: 'Webhook delivery attempts, by outcome (delivered, http_4xx, http_5xx, error)',
  labelNames: ['outcome'] as const,
  registers,
});

export const poolAcquireSeconds = new Histogram({
  name: 'kiosque_db_pool_acquire_seconds',
  help: 'Time waited for a PostgreSQL connection from the pool',
  buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  registers,
});

const CEILING_CODES = new Set(['per_purchase_limit', 'weekly_ceiling', 'monthly_ceiling']);

/** Counts a 402 answer; the code is unknown when a consent page rendered the decline as HTML. */
export function countDecline(code: string | undefined): void {
  const label = code ?? 'unknown';
  declines.inc({ code: label });
  if (CEILING_CODES.has(label)) ceilingsHit.inc({ ceiling: label });
}

export function countWebhookAttempt(outcome: { statusCode: number } | { error: string }): void {
  if (!('statusCode' in outcome)) return webhookAttempts.inc({ outcome: 'error' });
  const status = outcome.statusCode;
  webhookAttempts.inc({ outcome: status >= 200 && status < 300 ? 'delivered' : `http_${Math.floor(status / 100)}xx` });
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
const observedQueues = new Set<Queue>();
new Gauge({
  name: 'kiosque_queue_jobs',
  help: 'Jobs in each BullMQ queue, by state (read from Redis at scrape time)',
  labelNames: ['queue', 'state'] as const,
  registers,
  async collect() {
    this.reset();
    await Promise.all(
      [...observedQueues].map(async (queue) => {
        // Redis may be away: the gauge then says nothing rather than failing the whole scrape.
        const counts = await withTimeout(queue.getJobCounts(...QUEUE_STATES), 500).catch(() => null);
        if (!counts) return;
        for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }),
    );
  },
});

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);
}

/** Reports the queue's depth at each scrape until the returned function is called. */
export function observeQueue(queue: Queue): () => void {
  observedQueues.add(queue);
  return () => observedQueues.delete(queue);
}

/** Job durations and failures from the worker's own events. */
export function observeWorker(worker: Worker): void {
  const finished = (job: Job, outcome: 'completed' | 'failed') => {
    if (job.processedOn && job.finishedOn) {
      jobDuration.observe({ queue: worker.name, name: job.name, outcome }, (job.finishedOn - job.processedOn) / 1000);
    }
  };
  worker.on('completed', (job) => finished(job, 'completed'));
  worker.on('failed', (job) => {
    jobFailures.inc({ queue: worker.name, name: job?.name ?? 'unknown' });
    if (job) finished(job, 'failed');
  });
  worker.on('stalled', () => jobFailures.inc({ queue: worker.name, name: 'stalled' }));
}

const observedPools = new Set<pg.Pool>();
new Gauge({
  name: 'kiosque_db_pool_clients',
  help: 'PostgreSQL pool connections (total, idle) and requests waiting for one',
  labelNames: ['state'] as const,
  registers,
  collect() {
    let total = 0;
    let idle = 0;
    let waiting = 0;
    for (const pool of observedPools) {
      total += pool.totalCount;
      idle += pool.idleCount;
      waiting += pool.waitingCount;
    }
    this.set({ state: 'total' }, total);
    this.set({ state: 'idle' }, idle);
    this.set({ state: 'waiting' }, waiting);
  },
});

/**
 * Times each connection checkout of the pool (the wait a request spends when
 * every connection is busy) and reports its size at each scrape.
 */
export function observePool(pool: pg.Pool): void {
  observedPools.add(pool);
  const end = pool.end.bind(pool);
  Object.assign(pool, { end: () => (observedPools.delete(pool), end()) });
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const timed = async () => {
    const end = poolAcquireSeconds.startTimer();
    try {
      return await connect();
    } finally {
      end();
    }
  };
  // Only the promise form is timed; PrismaPg uses nothing else.
  Object.assign(pool, {
    connect: (callback?: unknown) =>
      callback
        ? (pool.constructor.prototype as { connect: (cb: unknown) => void }).connect.call(pool, callback)
        : timed(),
  });
}
