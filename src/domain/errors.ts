import type { ErrorCode } from '../shared/codes.js';

export type { DeclineCode, ErrorCode } from '../shared/codes.js';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** Credentials that do not authenticate anyone: a bad key or assertion, or an assertion naming no provisioned subscriber. */
export const unauthorized = () => new AppError('unauthorized', 'Missing or invalid credentials');
export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const invalidState = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('invalid_state', message, details);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const invalidRequest = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('invalid_request', message, details);
/** PostgreSQL unreachable or too slow, or the gateway shedding load: retry later, with the same Idempotency-Key. */
export const serviceUnavailable = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('service_unavailable', message, details);
