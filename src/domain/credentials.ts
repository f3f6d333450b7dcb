import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type ApiKeyOwner = 'operator' | 'publisher';

const PREFIX: Record<ApiKeyOwner, string> = { operator: 'kq_op_', publisher: 'kq_pub_' };

/** A random API key, shown once; only `hashApiKey` of it is stored. */
export function newApiKey(owner: ApiKeyOwner): string {
  return PREFIX[owner] + randomBytes(24).toString('base64url');
}

export function apiKeyOwner(key: string): ApiKeyOwner | null {
  if (key.startsWith(PREFIX.operator)) return 'operator';
  if (key.startsWith(PREFIX.publisher)) return 'publisher';
  return null;
}

/** Keys carry 192 random bits, so a fast hash is enough: there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function newAssertionSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Standard Webhooks secret: `whsec_` then base64 of the HMAC key bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}
