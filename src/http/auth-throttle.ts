import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { AppError } from '../domain/errors.js';
import type { AppContext } from './context.js';

const WINDOW_MS = 60_000;
/** Bounds the per-process fallback's memory; keys past it are not tracked until the next window. */
const LOCAL_MAX_KEYS = 100_000;

const digest = (what: string) => createHash('sha256').update(what).digest('base64url').slice(0, 22);

/** What a failed authentication is counted against: the address it came from and the exact credential shown. */
function counterKeys(prefix: string, req: Request, credential: string | null, window: number): string[] {
  const keys = [`${prefix}:authfail:addr:${digest(req.ip ?? 'unknown')}:${window}`];
  if (credential) keys.push(`${prefix}:authfail:cred:${digest(credential)}:${window}`);
  return keys;
}

/**
 * Failure counts of this process alone, used while Redis cannot be reached.
 * Each gateway process then throttles on its own, so the effective limit is
 * multiplied by the number of processes, but guessing stays throttled.
 */
class LocalFailureCounts {
  private window = -1;
  private counts = new Map<string, number>();

  private roll(window: number): void {
    if (window === this.window) return;
    this.window = window;
    this.counts.clear();
  }

  max(keys: readonly string[], window: number): number {
    this.roll(window);
    return Math.max(0, ...keys.map((k) => this.counts.get(k) ?? 0));
  }

  add(keys: readonly string[], window: number): void {
    this.roll(window);
    for (const key of keys) {
      const count = this.counts.get(key);
      if (count !== undefined) this.counts.set(key, count + 1);
      else if (this.counts.size < LOCAL_MAX_KEYS) this.counts.set(key, 1);
    }
  }
}

const local = new LocalFailureCounts();

const currentWindow = () => Math.floor(Date.now() / WINDOW_MS);

/**
 * Refuses with 429 a request whose address or credential failed to
 * authenticate `authFailuresPerMinute` times this minute, before the credential
 * is even looked at: past the limit, a guess is not evaluated, right or wrong.
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
  const keys = counterKeys(ctx.config.queuePrefix, req, credential, window);
  let failures = local.max(keys, window);
  if (ctx.redis.status === 'ready') {
    try {
      const counts = await ctx.redis.mget(...keys);
      failures = Math.max(failures, ...counts.map((c) => Number(c ?? 0)));
    } catch (error) {
      ctx.logger.warn({ err: error }, 'failed-authentication counts unavailable in Redis; using this process’s own');
    }
  }
  if (failures >= limit) {
    res.set('Retry-After', String(Math.ceil((WINDOW_MS - (Date.now() % WINDOW_MS)) / 1000)));
    throw new AppError('rate_limited', 'Too many failed authentications; wait before trying again', {
      failedAuthenticationsPerMinute: limit,
    });
  }
}

/** Counts one failed authentication against the request's address and the credential it showed. */
export async function countFailedAuthentication(ctx: AppContext, req: Request, credential: string | null): Promise<void> {
  if (ctx.config.authFailuresPerMinute === 0) return;
  const window = currentWindow();
  const keys = counterKeys(ctx.config.queuePrefix, req, credential, window);
  if (ctx.redis.status === 'ready') {
    try {
      const multi = ctx.redis.multi();
      for (const key of keys) multi.incr(key).pexpire(key, WINDOW_MS, 'NX');
      await multi.exec();
      return;
    } catch (error) {
      ctx.logger.warn({ err: error }, 'could not count a failed authentication in Redis; counting it in this process');
    }
  }
  local.add(keys, window);
}
