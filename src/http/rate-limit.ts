import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { RequestHandler } from 'express';
import { AppError } from '../domain/errors.js';
import { sharedFailureRead } from './auth-throttle.js';
import { bearer } from './bearer.js';
import type { AppContext } from './context.js';

const WINDOW_MS = 60_000;
const REDIS_READY_WAIT_MS = 250;
/**
 * The credential is counted before it is verified, so made-up tokens would each
 * get a fresh window; the address is counted too, with room for the many
 * honest credentials that share one (an ISP's portal, a publisher's servers).
 */
const ADDRESS_LIMIT_FACTOR = 10;

const windowKey = (prefix: string, what: string, window: number) =>
  `${prefix}:rl:${createHash('sha256').update(what).digest('base64url').slice(0, 22)}:${window}`;

/**
 * Fixed-window request counts per credential and per address, in
 * Redis so every gateway process shares it. Redis is a cache here: if it is
 * down or flushed the limiter lets requests through rather than fail them.
 * The same round trip reads the Bearer credential's failed authentications,
 * which the authentication step would otherwise fetch in one more.
 */
export function rateLimit(ctx: AppContext): RequestHandler {
  const limit = ctx.config.rateLimitPerMinute;
  return async (req, res, next) => {
    if (limit === 0) return next();
    const window = Math.floor(Date.now() / WINDOW_MS);
    const credentialKey = windowKey(ctx.config.queuePrefix, req.headers.authorization ?? `ip:${req.ip}`, window);
    const addressKey = windowKey(ctx.config.queuePrefix, `address:${req.ip}`, window);
    let count: number;
    let addressCount: number;
    try {
      // Right after start the connection may still be opening: give it a moment rather than skip counting.
      if (ctx.redis.status !== 'ready')
        await once(ctx.redis, 'ready', { signal: AbortSignal.timeout(REDIS_READY_WAIT_MS) });
      const credential = bearer(req);
      const failureRead = ctx.config.authFailuresPerMinute > 0 ? sharedFailureRead(ctx, req, credential) : null;
      const multi = ctx.redis
        .multi()
        .incr(credentialKey)
        .pexpire(credentialKey, WINDOW_MS, 'NX')
        .incr(addressKey)
        .pexpire(addressKey, WINDOW_MS, 'NX');
      if (failureRead) multi.mget(...failureRead.keys);
      const results = await multi.exec();
      count = Number(results?.[0]?.[1] ?? 0);
      addressCount = Number(results?.[2]?.[1] ?? 0);
      if (failureRead) {
        const [error, values] = results?.[4] ?? [null, null];
        if (!error && Array.isArray(values))
          res.locals.sharedAuthFailures = { credential, failures: failureRead.failures(values as (string | null)[]) };
      }
    } catch (error) {
      ctx.logger.warn({ err: error }, 'rate limiter unavailable; letting the request through');
      return next();
    }
    res.set('RateLimit-Limit', String(limit));
    res.set('RateLimit-Remaining', String(Math.max(0, limit - count)));
    if (count > limit || addressCount > limit * ADDRESS_LIMIT_FACTOR) {
      res.set('Retry-After', String(Math.ceil((WINDOW_MS - (Date.now() % WINDOW_MS)) / 1000)));
      throw new AppError('rate_limited', 'Too many requests; slow down', { limitPerMinute: limit });
    }
    next();
  };
}
