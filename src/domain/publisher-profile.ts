import type { Publisher } from '../generated/prisma/client.js';
import type { Tx } from '../store/db.js';
import { newWebhookSecret } from './credentials.js';
import { notFound } from './errors.js';

/** After a rotation the old secret keeps signing for this long, so receivers can switch without losing a delivery. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

/**
 * Replaces the publisher's webhook secret. The one it replaces signs alongside
 * it until the overlap ends; rotating again within the overlap drops the
 * oldest, so at most two secrets ever sign. One statement, so two rotations at
 * once cannot lose the secret in between.
 */
export async function rotateWebhookSecret(tx: Tx, publisherId: string, now = new Date()): Promise<Publisher> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    UPDATE publishers
    SET previous_webhook_secret = webhook_secret,
        previous_webhook_secret_expires_at = ${new Date(now.getTime() + SECRET_OVERLAP_MS)},
        webhook_secret = ${newWebhookSecret()}
    WHERE id = ${publisherId}
    RETURNING id`;
  if (rows.length === 0) throw notFound('Publisher');
  return tx.publisher.findUniqueOrThrow({ where: { id: publisherId } });
}

/** The publisher's profile as it sees it: no secret, only when a rotated-out one stops signing. */
export function previousSecretExpiry(publisher: Publisher, now = new Date()): string | null {
  const expiresAt = publisher.previousWebhookSecretExpiresAt;
  return publisher.previousWebhookSecret && expiresAt && expiresAt > now ? expiresAt.toISOString() : null;
}
