import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { AppError } from '../domain/errors.js';
import type { AppContext } from './context.js';

const WINDOW_MS = 60_000;
/** Bounds the per-process fallback's memory; keys past it are not tracked until the next window. */
const LOCAL_MAX_KEYS = 100_000;

const digest = (what: string) => createHash('sha256').update(what).digest('base64url').slice(0, 22);

/** What a failed authentication is counted against: the address it came from and the exact credential shown. */
function counters(prefix: string, req: Request, credential: string | null): string[] {
  const names = [`${prefix}:authfail:addr:${digest(req.ip ?? 'unknown')}`];
  if (credential) names.push(`${prefix}:authfail:cred:${digest(credential)}`);
  return names;
}

const keyOf = (counter: string, window: number) => `${counter}:${window}`;

/**
 * Failures are judged over this minute and the one before, so that a burst
 * split across a minute boundary is not twice the limit.
 */
type Counts = (counter: string, window: number) => number;

function failuresOf(counts: Counts, names: readonly string[], window: number): number {
  return Math.max(0, ...names.map((name) => counts(name, window) + counts(name, window - 1)));
}

/**
 * Failure counts of this process alone, used while Redis cannot be reached.
 * Each gateway process then throttles on its own, so the effective limit is
 * multiplied by the number of processes, but guessing stays throttled.
 */
class LocalFailureCounts {
  private window = -1;
  private current = new Map<string, number>();
  private previous = new Map<string, number>();

  private roll(window: number): void {
    if (window === this.window) return;
    this.previous = window === this.window + 1 ? this.current : new Map<string, number>();
    this.current = new Map();
    this.window = window;
  }

  count(counter: string, window: number): number {
    this.roll(Math.max(window, this.window));
    if (window === this.window) return this.current.get(counter) ?? 0;
    return window === this.window - 1 ? (this.previous.get(counter) ?? 0) : 0;
  }

  add(names: readonly string[], window: number): void {
    this.roll(window);
    for (const name of names) {
      const count = this.current.get(name);
      if (count !== undefined) this.current.set(name, count + 1);
      else if (this.current.size < LOCAL_MAX_KEYS) this.current.set(name, 1);
    }
  }
}

const local = new LocalFailureCounts();

const currentWindow = () => Math.floor(Date.now() / WINDOW_MS);

/**
 * Refuses with 429 a credential that did not verify, when its address or the
 * credential itself failed to authenticate `authFailuresPerMinute` times
 * (this minute and the last). Called only after the credential was checked
 * and found wanting: a valid credential is never refused for failures, which
 * behind a NAT or a proxy may be someone else's (SECURITY.md).
 * Counts live in Redis, shared by every gateway; when Redis cannot answer,
 * this process's own counts are used instead (fail to local, never open).
 */
export async function refuseThrottledAuthentication(
  ctx: AppContext,
  req: Request,
  res: Response,
  credential: string | null,
): Promise<void> {
  const limit = ctx.config.authFailuresPerMinute;
  if (limit === 0) return;
  const window = currentWindow();
  const names = counters(ctx.config.queuePrefix, req, credential);
  let failures = failuresOf((name, w) => local.count(name, w), names, window);
  if (ctx.redis.status === 'ready') {
    try {
      const read = sharedFailureRead(ctx, req, credential, window);
      failures = Math.max(failures, read.failures(await ctx.redis.mget(...read.keys)));
    } catch (error) {
      ctx.logger.warn({ err: error }, 'failed-authentication counts unavailable in Redis; using this process’s own');
    }
  }
  if (failures >= limit) {
    // By then this minute's failures have left the two-minute view too.
    res.set('Retry-After', String(Math.ceil((2 * WINDOW_MS - (Date.now() % WINDOW_MS)) / 1000)));
    throw new AppError('rate_limited', 'Too many failed authentications; wait before trying again', {
      failedAuthenticationsPerMinute: limit,
    });
  }
}

/** The Redis keys holding a credential's failure counts, and how to read the failures from their values. */
interface SharedFailureRead {
  keys: string[];
  failures(values: readonly (string | null)[]): number;
}

/** What to read in Redis to judge a credential's failures: only a credential that failed to verify is judged. */
function sharedFailureRead(
  ctx: AppContext,
  req: Request,
  credential: string | null,
  window: number,
): SharedFailureRead {
  const names = counters(ctx.config.queuePrefix, req, credential);
  const keys = names.flatMap((name) => [keyOf(name, window), keyOf(name, window - 1)]);
  return {
    keys,
    failures(values) {
      const shared = new Map(keys.map((key, i) => [key, Number(values[i] ?? 0)]));
      return failuresOf((name, w) => shared.get(keyOf(name, w)) ?? 0, names, window);
    },
  };
}

/** Counts one failed authentication against the request's address and the credential it showed. */
export async function countFailedAuthentication(
  ctx: AppContext,
  req: Request,
  credential: string | null,
): Promise<void> {
  if (ctx.config.authFailuresPerMinute === 0) return;
  const window = currentWindow();
  const names = counters(ctx.config.queuePrefix, req, credential);
  if (ctx.redis.status === 'ready') {
    try {
      const multi = ctx.redis.multi();
      for (const key of names.map((name) => keyOf(name, window))) multi.incr(key).pexpire(key, 2 * WINDOW_MS, 'NX');
      await multi.exec();
      return;
    } catch (error) {
      ctx.logger.warn({ err: error }, 'could not count a failed authentication in Redis; counting it in this process');
    }
  }
  local.add(names, window);
}
