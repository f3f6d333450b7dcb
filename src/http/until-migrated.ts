import type { RequestHandler } from 'express';
import { serviceUnavailable } from '../domain/errors.js';
import type { StartedUp } from '../observability/health.js';
import { sendError } from './errors.js';

/**
 * The gateway listens from its first moment (so /healthz answers and a
 * supervisor does not restart it), but until its migrations are done the
 * schema may be missing or half there: a request would find no table and
 * answer 500, or worse, half-succeed. Until then every request past the
 * health routes is answered 503 with Retry-After, and none reaches a handler.
 */
export function untilMigrated(state: StartedUp): RequestHandler {
  let migrated = false;
  return (_req, res, next) => {
    // Once true it stays true: the flag is read on every request only until then.
    migrated ||= state.migrated();
    if (migrated) return next();
    sendError(res, serviceUnavailable('The gateway is starting: its database is being migrated; retry shortly'));
  };
}
