import { createHmac } from 'node:crypto';

/** Standard Webhooks secrets are `whsec_` followed by the base64 of the HMAC key bytes. */
const SECRET_PREFIX = 'whsec_';

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function webhookKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('A webhook secret starts with "whsec_"');
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length === 0) throw new Error('A webhook secret carries a non-empty base64 key');
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, per the Standard Webhooks scheme. */
export function webhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The three headers that let a recipient verify a delivery; the timestamp is
 * the send time, not the event's. Several secrets (during a rotation) give
 * several space-separated signatures, as Standard Webhooks allows: a receiver
 * holding either secret verifies.
 */
export function webhookHeaders(
  secrets: string | readonly string[],
  id: string,
  body: string,
  sentAt: Date,
): WebhookHeaders {
  const timestampSeconds = Math.floor(sentAt.getTime() / 1000);
  const all = typeof secrets === 'string' ? [secrets] : secrets;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': all.map((secret) => webhookSignature(secret, id, timestampSeconds, body)).join(' '),
  };
}
