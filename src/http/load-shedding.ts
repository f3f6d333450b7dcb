import type { RequestHandler } from 'express';
import { serviceUnavailable } from '../domain/errors.js';
import { sendError } from './errors.js';

declare module 'express-serve-static-core' {
  interface Locals {
    /** Set once the request's deadline answered it 503; whatever the handler does later is dropped. */
    deadlinePassed?: boolean;
  }
}

export interface LoadLimits {
  /** Requests this process works on at once; one more is refused at once. */
  maxInFlight: number;
  /** Requests waiting for a pooled PostgreSQL connection; at this many, new work is refused at once. */
  maxPoolWaiting: number;
  /** A request still unanswered after this is answered 503, so no client waits on a stuck database. */
  deadlineMs: number;
}

/**
 * Keeps a slow or locked PostgreSQL from piling requests up in the gateway:
 * work that cannot start soon is refused with 503 and `Retry-After` (cheap,
 * and the client retries later with the same Idempotency-Key), and every
 * request is answered by its deadline. What is in flight, hence memory, stays
 * bounded whatever the database does. The database timeouts (src/store/db.ts)
 * end the work itself; the deadline only bounds what a client waits.
 */
export function shedLoad(limits: LoadLimits, poolWaiting: () => number): RequestHandler {
  let inFlight = 0;
  return (_req, res, next) => {
    if (inFlight >= limits.maxInFlight || poolWaiting() >= limits.maxPoolWaiting) {
      return sendError(res, serviceUnavailable('The gateway is overloaded; retry shortly'));
    }
    inFlight += 1;
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.locals.deadlinePassed = true;
      sendError(res, serviceUnavailable('The request ran out of time; retry shortly'));
    }, limits.deadlineMs);
    res.once('close', () => {
      clearTimeout(timer);
      inFlight -= 1;
    });
    next();
  };
}
