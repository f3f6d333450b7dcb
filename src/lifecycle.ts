import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  '57P03',
]);

/** "127.0.0.1:5432" from a connection URL, without credentials, for log lines. */
export function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol.startsWith('redis') ? '6379' : '5432')}`;
  } catch {
    // libpq's multi-host form (h1:5432,h2:5433), which URL does not read.
    return /^[a-z]+:\/\/(?:[^@/]*@)?([^/?#]+,[^/?#]+)/.exec(url)?.[1] ?? 'an unparsable URL';
  }
}

/** The first line of an error, with its code: never a stack. */
export function shortReason(error: unknown): string {
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  // Node's happy-eyeballs connect fails with an AggregateError whose message is empty.
  if ((!message || message === '') && Array.isArray(errors) && errors.length) return shortReason(errors[0]);
  const text = typeof message === 'string' && message ? message.split('\n')[0]! : String(error);
  return typeof code === 'string' && !text.includes(code) ? `${code} ${text}` : text;
}

export function isConnectionError(error: unknown): boolean {
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return Array.isArray(errors) && errors.some(isConnectionError);
}

export interface RetryOptions {
  logger: Logger;
  signal: AbortSignal;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs `attempt` until it succeeds, waiting twice as long after each failure
 * (up to maxDelayMs). One log line when it first fails and one when it is
 * back: an outage reads as two lines, not a flood.
 */
export async function retryUntilDone(
  what: string,
  where: string,
  attempt: () => Promise<void>,
  options: RetryOptions,
): Promise<void> {
  const { logger, signal } = options;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  let delayMs = options.firstDelayMs ?? 500;
  let failures = 0;
  let lastReason = '';
  for (;;) {
    signal.throwIfAborted();
    try {
      await attempt();
      if (failures) logger.info({ dependency: what, failures }, `${what} at ${where} is reachable again; going on`);
      return;
    } catch (error) {
      failures += 1;
      const reason = shortReason(error);
      const state = isConnectionError(error) ? 'unreachable' : 'failing';
      if (reason !== lastReason) {
        logger.warn(
          { dependency: what, reason },
          `${what} ${state} at ${where} (${reason}); retrying with backoff, not ready until then`,
        );
        lastReason = reason;
      } else {
        logger.debug({ dependency: what, reason, failures, delayMs }, `${what} still ${state}`);
      }
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    delayMs = Math.min(delayMs * 2, maxDelayMs);
  }
}

/**
 * Reports a Redis client's outages as one line when it goes and one when it
 * is back. ioredis reconnects by itself, with backoff; without an 'error'
 * listener it would print each failed attempt as a stack trace.
 */
export function watchRedis(redis: Redis | Cluster, where: string, logger: Logger): void {
  let down = false;
  redis.on('error', (error: unknown) => {
    if (down) return;
    down = true;
    logger.warn(
      { dependency: 'Redis', reason: shortReason(error) },
      `Redis unreachable at ${where} (${shortReason(error)}); reconnecting with backoff, not ready until then`,
    );
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ dependency: 'Redis' }, `Redis at ${where} is reachable again`);
  });
}

/** Resolves once the client is connected; rejects if `signal` aborts first. */
export function redisReady(redis: Redis | Cluster, signal: AbortSignal): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  // Not events.once: it rejects on the first 'error', and connection errors are expected until Redis is back.
  return new Promise((resolve, reject) => {
    const onReady = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      redis.off('ready', onReady);
      // Every caller aborts without a reason, so this is the AbortError DOMException, an Error.
      reject(signal.reason as Error);
    };
    redis.once('ready', onReady);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
