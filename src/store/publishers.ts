import type Decimal from 'decimal.js';
import { money } from './records.js';
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

const SUSPENDED_AT: Statement = {
  name: 'publisher_suspended_at',
  text: `SELECT suspended_at AS "suspendedAt" FROM publishers WHERE id = $1::text`,
};

/** Whether and since when a publisher is suspended; null when there is no such publisher. */
export async function publisherStanding(sql: Sql, publisherId: string): Promise<{ suspendedAt: Date | null } | null> {
  const [row] = await sql.rows<{ suspendedAt: Date | null }>(SUSPENDED_AT, [publisherId]);
  return row ?? null;
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
 * the secret in between. Null when there is no such publisher. On pg: it runs
 * in its idempotency key's transaction (src/http/idempotency.ts).
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

/** A publisher as its own profile shows it: everything but its API key hash and current webhook secret. */
export interface PublisherProfileRecord {
  id: string;
  name: string;
  category: string;
  legalName: string | null;
  supportUrl: string | null;
  webhookUrl: string | null;
  rateIsp: Decimal;
  rateSms: Decimal;
  rateVoice: Decimal;
  vatRate: Decimal;
  pointsPerEuro: Decimal;
  suspendedAt: Date | null;
  createdAt: Date;
  previousWebhookSecret: string | null;
  previousWebhookSecretExpiresAt: Date | null;
}

type DecimalField = 'rateIsp' | 'rateSms' | 'rateVoice' | 'vatRate' | 'pointsPerEuro';
type PublisherProfileRow = Omit<PublisherProfileRecord, DecimalField> & Record<DecimalField, string>;

const PROFILE_COLUMNS = `id, name, category, legal_name AS "legalName", support_url AS "supportUrl",
      webhook_url AS "webhookUrl", rate_isp::text AS "rateIsp", rate_sms::text AS "rateSms",
      rate_voice::text AS "rateVoice", vat_rate::text AS "vatRate", points_per_euro::text AS "pointsPerEuro",
      suspended_at AS "suspendedAt", created_at AS "createdAt", previous_webhook_secret AS "previousWebhookSecret",
      previous_webhook_secret_expires_at AS "previousWebhookSecretExpiresAt"`;

function toProfile(row: PublisherProfileRow): PublisherProfileRecord {
  return {
    ...row,
    rateIsp: money(row.rateIsp),
    rateSms: money(row.rateSms),
    rateVoice: money(row.rateVoice),
    vatRate: money(row.vatRate),
    pointsPerEuro: money(row.pointsPerEuro),
  };
}

const FIND_BY_API_KEY_HASH: Statement = {
  name: 'publisher_find_by_api_key_hash',
  text: `SELECT ${PROFILE_COLUMNS} FROM publishers WHERE api_key_hash = $1::text`,
};

/**
 * The publisher behind an API key, by the key's hash: the lookup every
 * purchase makes first, as a prepared statement (through Prisma it cost more
 * CPU than the whole confirmation).
 */
export async function findPublisherByApiKeyHash(sql: Sql, apiKeyHash: string): Promise<PublisherProfileRecord | null> {
  const [row] = await sql.rows<PublisherProfileRow>(FIND_BY_API_KEY_HASH, [apiKeyHash]);
  return row ? toProfile(row) : null;
}

export interface NewPublisherRecord {
  id: string;
  name: string;
  category: string;
  legalName: string | null;
  supportUrl: string | null;
  webhookUrl: string | null;
  webhookSecret: string;
  apiKeyHash: string;
  rates: { isp: string; sms: string; voice: string };
  vatRate: string;
  pointsPerEuro: string;
}

const INSERT_PUBLISHER: Statement = {
  name: 'publisher_insert',
  text: `INSERT INTO publishers (id, name, category, legal_name, support_url, webhook_url, webhook_secret, api_key_hash,
      rate_isp, rate_sms, rate_voice, vat_rate, points_per_euro)
    VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::numeric,
      $10::numeric, $11::numeric, $12::numeric, $13::numeric)
    RETURNING ${PROFILE_COLUMNS}`,
};

// On pg: it runs in its idempotency key's transaction (src/http/idempotency.ts).
export async function insertPublisher(sql: Sql, publisher: NewPublisherRecord): Promise<PublisherProfileRecord> {
  const [row] = await sql.rows<PublisherProfileRow>(INSERT_PUBLISHER, [
    publisher.id,
    publisher.name,
    publisher.category,
    publisher.legalName,
    publisher.supportUrl,
    publisher.webhookUrl,
    publisher.webhookSecret,
    publisher.apiKeyHash,
    publisher.rates.isp,
    publisher.rates.sms,
    publisher.rates.voice,
    publisher.vatRate,
    publisher.pointsPerEuro,
  ]);
  if (!row) throw new Error(`Publisher ${publisher.id} was inserted but not returned`);
  return toProfile(row);
}

const SET_SUSPENSION: Statement = {
  name: 'publisher_set_suspension',
  text: `UPDATE publishers SET suspended_at = CASE WHEN $2::boolean THEN COALESCE(suspended_at, $3::timestamptz) END
    WHERE id = $1::text
    RETURNING ${PROFILE_COLUMNS}`,
};

/**
 * Suspends a publisher as of `at` (an earlier suspension keeps its time), or
 * reinstates it; null when there is no such publisher. On pg: it runs in its
 * idempotency key's transaction (src/http/idempotency.ts).
 */
export async function setSuspension(
  sql: Sql,
  publisherId: string,
  suspended: boolean,
  at: Date,
): Promise<PublisherProfileRecord | null> {
  const [row] = await sql.rows<PublisherProfileRow>(SET_SUSPENSION, [publisherId, suspended, at]);
  return row ? toProfile(row) : null;
}
