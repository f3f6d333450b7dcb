import type { Database } from '../store/database.js';
import { updatePublisherProfile, type PublisherProfileChanges } from '../store/profiles.js';
import { replaceWebhookSecret, type PublisherProfileRecord, type WebhookSecrets } from '../store/publishers.js';
import type { Sql } from '../store/sql.js';
import { newWebhookSecret } from './credentials.js';
import { notFound } from './errors.js';

/** After a rotation the old secret keeps signing for this long, so receivers can switch without losing a delivery. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

/**
 * Replaces the publisher's webhook secret. The one it replaces signs alongside
 * it until the overlap ends; rotating again within the overlap drops the
 * oldest, so at most two secrets ever sign.
 */
export async function rotateWebhookSecret(tx: Sql, publisherId: string, now = new Date()): Promise<WebhookSecrets> {
  const rotated = await replaceWebhookSecret(
    tx,
    publisherId,
    newWebhookSecret(),
    new Date(now.getTime() + SECRET_OVERLAP_MS),
  );
  if (!rotated) throw notFound('Publisher');
  return rotated;
}

/** The publisher's profile as it sees it: no secret, only when a rotated-out one stops signing. */
export function previousSecretExpiry(
  publisher: Pick<WebhookSecrets, 'previousWebhookSecret' | 'previousWebhookSecretExpiresAt'>,
  now = new Date(),
): string | null {
  const expiresAt = publisher.previousWebhookSecretExpiresAt;
  return publisher.previousWebhookSecret && expiresAt && expiresAt > now ? expiresAt.toISOString() : null;
}

/** Changes what a publisher may change of its own profile; 404 when it no longer exists. */
export async function changePublisherProfile(
  database: Database,
  publisherId: string,
  changes: PublisherProfileChanges,
): Promise<PublisherProfileRecord> {
  const updated = await updatePublisherProfile(database, publisherId, changes);
  if (!updated) throw notFound('Publisher');
  return updated;
}
