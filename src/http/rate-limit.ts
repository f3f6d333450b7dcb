import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors.js';
import type { AppContext } from './context.js';

const WINDOW_MS = 60_000;
/**
 * How often a gateway adds the requests it counted to the shared counts in
 * Redis, and learns the other gateways' in the same reply: the tolerance of
 * the limit across gateways (README, SECURITY.md).
 */
const SYNC_INTERVAL_MS = 100;
/** A sync that has not answered by then is failed: no request ever waits on it, but the next sync would. */
const SYNC_TIMEOUT_MS = 250;
/** After a failed sync, Redis is left alone this long: each gateway limits on its own counts meanwhile. */
const CIRCUIT_OPEN_MS = 1_000;
/** Bounds the memory of one window's counts; keys past it are counted by this process only until the next sync. */
const MAX_KEYS = 100_000;
/**
 * The credential is counted before it is verified, so made-up tokens would each
 * get a fresh window; the address is counted too, with room for the many
 * honest credentials that share one (an ISP's portal, a publisher's servers).
 */
const ADDRESS_LIMIT_FACTOR = 10;

const windowKey = (prefix: string, what: string, window: number) =>
  `${prefix}:rl:${createHash('sha256').update(what).digest('base64url').slice(0, 22)}:${window}`;

interface Tally {
  /** The shared count as Redis last returned it, this gateway's synced requests included. */
  shared: number;
  /** Counted here, in a sync that has not answered yet. */
  sending: number;
  /** Counted here since. */
  pending: number;
}

/**
 * One window's request counts, kept in this process and added to Redis in
 * batches: a request never waits on Redis. Each count a request is judged on
 * is exact for this process and holds the other gateways' requests as of this
 * key's last sync, at most SYNC_INTERVAL_MS old while Redis answers. With Redis
 * unreachable the circuit opens and each gateway limits on its own counts
 * (never fails open), then adds them to the shared ones once Redis is back.
 */
class SharedWindowCounts {
  private window = -1;
  private tallies = new Map<string, Tally>();
  private timer: NodeJS.Timeout | null = null;
  private syncing = false;
  private openUntilMs = 0;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /** Counts one request against `key` in `window` and returns the count it is judged on. */
  add(key: string, window: number): number {
    if (window !== this.window) {
      this.window = window;
      this.tallies = new Map();
    }
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { shared: 0, sending: 0, pending: 0 };
      if (this.tallies.size < MAX_KEYS) this.tallies.set(key, tally);
    }
    tally.pending += 1;
    this.schedule();
    return tally.shared + tally.sending + tally.pending;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sync();
    }, SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  /** One pipeline: INCRBY and PEXPIRE NX per key counted since the last sync (all in one slot: the prefix is hash-tagged). */
  private async sync(): Promise<void> {
    const batch = [...this.tallies].filter(([, tally]) => tally.pending > 0);
    if (batch.length === 0) return;
    if (this.syncing || Date.now() < this.openUntilMs || this.redis.status !== 'ready') return this.schedule();
    this.syncing = true;
    for (const [, tally] of batch) {
      tally.sending = tally.pending;
      tally.pending = 0;
    }
    try {
      const pipeline = this.redis.pipeline();
      for (const [key, tally] of batch) pipeline.incrby(key, tally.sending).pexpire(key, WINDOW_MS, 'NX');
      const results = await withTimeout(pipeline.exec(), SYNC_TIMEOUT_MS);
      batch.forEach(([, tally], i) => {
        const [error, total] = results?.[2 * i] ?? [new Error('no reply'), null];
        if (error) throw error;
        tally.shared = Number(total);
        tally.sending = 0;
      });
    } catch (error) {
      for (const [, tally] of batch) {
        tally.pending += tally.sending;
        tally.sending = 0;
      }
      if (Date.now() >= this.openUntilMs)
        this.logger.warn({ err: error }, 'rate limiter cannot reach Redis; each gateway counts on its own for now');
      this.openUntilMs = Date.now() + CIRCUIT_OPEN_MS;
    } finally {
      this.syncing = false;
    }
    if ([...this.tallies.values()].some((tally) => tally.pending > 0)) this.schedule();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One set of counts per gateway context, whichever mount (API, consent pages, subscriber pages) counts. */
const countsOf = new WeakMap<AppContext, SharedWindowCounts>();

/**
 * Fixed-window request counts per credential and per address, shared by every
 * gateway process through Redis (SharedWindowCounts). Redis is a cache here:
 * flushed, the counts start again; unreachable, each process limits alone.
 */
export function rateLimit(ctx: AppContext): RequestHandler {
  const limit = ctx.config.rateLimitPerMinute;
  let counts = countsOf.get(ctx);
  if (!counts) {
    counts = new SharedWindowCounts(ctx.redis, ctx.logger);
    countsOf.set(ctx, counts);
  }
  const shared = counts;
  return (req, res, next) => {
    if (limit === 0) return next();
    const window = Math.floor(Date.now() / WINDOW_MS);
    const count = shared.add(
      windowKey(ctx.config.queuePrefix, req.headers.authorization ?? `ip:${req.ip}`, window),
      window,
    );
    const addressCount = shared.add(windowKey(ctx.config.queuePrefix, `address:${req.ip}`, window), window);
    res.set('RateLimit-Limit', String(limit));
    res.set('RateLimit-Remaining', String(Math.max(0, limit - count)));
    if (count > limit || addressCount > limit * ADDRESS_LIMIT_FACTOR) {
      res.set('Retry-After', String(Math.ceil((WINDOW_MS - (Date.now() % WINDOW_MS)) / 1000)));
      throw new AppError('rate_limited', 'Too many requests; slow down', { limitPerMinute: limit });
    }
    next();
  };
}
