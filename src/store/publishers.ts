import type { Sql, Statement } from './sql.js';

const LOCK_PUBLISHER: Statement = {
  name: 'publisher_lock',
  text: `SELECT id FROM publishers WHERE id = $1::text FOR UPDATE`,
};

/**
 * The one way to lock a publisher's row: it serializes what changes the
 * publisher's money or standing (payouts, settlements, suspension) across
 * every gateway process. False when there is no such publisher.
 */
export async function lockPublisher(sql: Sql, publisherId: string): Promise<boolean> {
  const rows = await sql.rows<{ id: string }>(LOCK_PUBLISHER, [publisherId]);
  return rows.length > 0;
}

const SUSPEND_PUBLISHER: Statement = {
  name: 'publisher_suspend',
  text: `UPDATE publishers SET suspended_at = $2::timestamptz WHERE id = $1::text AND suspended_at IS NULL
    RETURNING id`,
};

/** Suspends a publisher as of `at`, keeping an earlier suspension's time; true when this call suspended it. */
export async function suspendPublisher(sql: Sql, publisherId: string, at: Date): Promise<boolean> {
  const rows = await sql.rows<{ id: string }>(SUSPEND_PUBLISHER, [publisherId, at]);
  return rows.length > 0;
}

const DISPUTE_COUNTS: Statement = {
  name: 'publisher_dispute_counts',
  text: `SELECT
      (SELECT COUNT(*)::int FROM disputes d JOIN purchases p ON p.id = d.purchase_id
         JOIN subscribers s ON s.id = p.subscriber_id JOIN operators o ON o.id = s.operator_id
        WHERE p.publisher_id = $1::text AND d.created_at > $2::timestamptz AND d.created_at <= $3::timestamptz
          AND NOT o.sandbox) AS disputes,
      (SELECT COUNT(*)::int FROM purchases p
         JOIN subscribers s ON s.id = p.subscriber_id JOIN operators o ON o.id = s.operator_id
        WHERE p.publisher_id = $1::text AND p.confirmed_at > $2::timestamptz AND p.confirmed_at <= $3::timestamptz
          AND NOT o.sandbox) AS confirmed`,
};

/**
 * Disputes opened and purchases confirmed for a publisher in (since, until],
 * live operators' only: sandbox purchases are test traffic.
 */
export async function disputeCounts(
  sql: Sql,
  publisherId: string,
  since: Date,
  until: Date,
): Promise<{ disputes: number; confirmed: number }> {
  const [row] = await sql.rows<{ disputes: number; confirmed: number }>(DISPUTE_COUNTS, [publisherId, since, until]);
  return row ?? { disputes: 0, confirmed: 0 };
}

/** The secrets that sign a publisher's webhooks: the current one, and the one it replaced while that still signs. */
export interface WebhookSecrets {
  webhookSecret: string;
  previousWebhookSecret: string | null;
  previousWebhookSecretExpiresAt: Date | null;
}

const ROTATE_SECRET: Statement = {
  name: 'publisher_rotate_webhook_secret',
  text: `UPDATE publishers
    SET previous_webhook_secret = webhook_secret, previous_webhook_secret_expires_at = $2::timestamptz,
        webhook_secret = $3::text
    WHERE id = $1::text
    RETURNING webhook_secret AS "webhookSecret", previous_webhook_secret AS "previousWebhookSecret",
      previous_webhook_secret_expires_at AS "previousWebhookSecretExpiresAt"`,
};

/**
 * Puts `secret` in place of the current secret, which keeps signing until
 * `previousExpiresAt`, in one statement, so two rotations at once cannot lose
 * the secret in between. Null when there is no such publisher.
 */
export async function replaceWebhookSecret(
  sql: Sql,
  publisherId: string,
  secret: string,
  previousExpiresAt: Date,
): Promise<WebhookSecrets | null> {
  const [row] = await sql.rows<WebhookSecrets>(ROTATE_SECRET, [publisherId, previousExpiresAt, secret]);
  return row ?? null;
}
