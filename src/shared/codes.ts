/** The closed list of error codes in docs/errors.md; src/http/errors.ts maps each to its status. */
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

/** The 402 codes: why a purchase was declined, in the order a subscriber would want to hear them. */
export const DECLINE_CODES = [
  'per_purchase_limit',
  'weekly_ceiling',
  'monthly_ceiling',
  'account_blocked',
  'category_blocked',
  'publisher_suspended',
] as const satisfies readonly ErrorCode[];

export type DeclineCode = (typeof DECLINE_CODES)[number];
