/** The closed list of API.md error codes; src/http/errors.ts maps each to its status. */
export const ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'idempotency_conflict',
  'invalid_state',
  'per_purchase_limit',
  'weekly_ceiling',
  'monthly_ceiling',
  'account_blocked',
  'category_blocked',
  'publisher_suspended',
  'consent_expired',
  'rate_limited',
  'service_unavailable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The 402 codes: why a purchase was declined. */
export const DECLINE_CODES = [
  'per_purchase_limit',
  'weekly_ceiling',
  'monthly_ceiling',
  'account_blocked',
  'category_blocked',
  'publisher_suspended',
] as const satisfies readonly ErrorCode[];

export type DeclineCode = (typeof DECLINE_CODES)[number];

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

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const invalidState = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('invalid_state', message, details);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const invalidRequest = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('invalid_request', message, details);
/** PostgreSQL unreachable or too slow, or the gateway shedding load: retry later, with the same Idempotency-Key. */
export const serviceUnavailable = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('service_unavailable', message, details);
