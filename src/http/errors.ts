import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, serviceUnavailable, type ErrorCode } from '../domain/errors.js';
import { isDatabaseUnavailable } from '../store/unavailable.js';

/** Seconds a client should wait before retrying a 503: long enough for a pool or a restarting server to recover. */
export const RETRY_AFTER_SECONDS = 2;

/** The one place an error code becomes an HTTP status (docs/errors.md). */
export function statusFor(code: ErrorCode): number {
  switch (code) {
    case 'invalid_request':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'idempotency_conflict':
    case 'invalid_state':
      return 409;
    case 'per_purchase_limit':
    case 'weekly_ceiling':
    case 'monthly_ceiling':
    case 'account_blocked':
    case 'category_blocked':
    case 'publisher_suspended':
      return 402;
    case 'consent_expired':
      return 410;
    case 'rate_limited':
      return 429;
    case 'service_unavailable':
      return 503;
  }
}

export function errorBody(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, details } };
}

/**
 * Answers an error. A 503 says when to retry, and that no cache may keep it:
 * a proxy serving a stored "overloaded" would prolong the outage it reports,
 * and a load-shedding 503 is sent before any route's own Cache-Control.
 */
export function sendError(res: Response, error: AppError, status = statusFor(error.code)): void {
  if (status === 503) res.set({ 'Retry-After': String(RETRY_AFTER_SECONDS), 'Cache-Control': 'no-store' });
  res.status(status).json(errorBody(error.code, error.message, error.details));
}

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/**
 * Last middleware: AppErrors become their docs/errors.md body; body-parser failures
 * are 400/413; PostgreSQL out of reach or out of time is 503; the rest is
 * logged. A request already answered (by its deadline) gets nothing more.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      if (!res.locals.deadlinePassed) next(error);
      return;
    }
    if (error instanceof AppError) return sendError(res, error);
    if (isDatabaseUnavailable(error)) {
      logger.warn({ reason: (error as Error).message }, 'PostgreSQL unavailable; answered 503');
      return sendError(res, serviceUnavailable('The service is briefly unavailable; retry shortly'));
    }
    const parserError = error as BodyParserError;
    if (parserError.type === 'entity.parse.failed') {
      return sendError(res, new AppError('invalid_request', 'The body is not valid JSON', { body: 'malformed JSON' }));
    }
    if (parserError.type === 'entity.too.large') {
      return sendError(
        res,
        new AppError('invalid_request', 'The body is too large', { body: `at most ${parserError.limit} bytes` }),
        413,
      );
    }
    if (parserError.type === 'charset.unsupported' || parserError.type === 'encoding.unsupported') {
      return sendError(
        res,
        new AppError('invalid_request', 'Unsupported body encoding', { body: 'use UTF-8 JSON' }),
        415,
      );
    }
    logger.error({ err: error, reqId: req.id }, 'unhandled error');
    res
      .status(500)
      .json({ error: { code: 'internal_error', message: 'Something went wrong on our side', details: {} } });
  };
}
