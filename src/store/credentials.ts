import { Prisma, type Publisher, type Subscriber } from '../generated/prisma/client.js';
import { onPool, type PgPool, type Statement } from './sql.js';

/*
 * The two lookups every purchase makes before anything else (the publisher
 * behind an API key, the subscriber behind an assertion), as prepared
 * statements: through Prisma they cost more CPU than the whole confirmation.
 * They return the same records Prisma would, for the actors HTTP builds.
 */

const PUBLISHER_BY_KEY: Statement = {
  name: 'publisher_by_api_key_hash',
  text: `SELECT id, name, category, legal_name AS "legalName", support_url AS "supportUrl",
      webhook_url AS "webhookUrl", webhook_secret AS "webhookSecret", api_key_hash AS "apiKeyHash",
      previous_webhook_secret AS "previousWebhookSecret",
      previous_webhook_secret_expires_at AS "previousWebhookSecretExpiresAt",
      rate_isp::text AS "rateIsp", rate_sms::text AS "rateSms", rate_voice::text AS "rateVoice",
      vat_rate::text AS "vatRate", points_per_euro::text AS "pointsPerEuro", suspended_at AS "suspendedAt", created_at AS "createdAt"
    FROM publishers WHERE api_key_hash = $1::text`,
};

type PublisherRow = Omit<Publisher, 'rateIsp' | 'rateSms' | 'rateVoice' | 'vatRate' | 'pointsPerEuro'> & {
  vatRate: string;
  pointsPerEuro: string;
  rateIsp: string;
  rateSms: string;
  rateVoice: string;
};

export async function publisherByApiKeyHash(pool: PgPool, apiKeyHash: string): Promise<Publisher | null> {
  const [row] = await onPool(pool).rows<PublisherRow>(PUBLISHER_BY_KEY, [apiKeyHash]);
  if (!row) return null;
  return {
    ...row,
    rateIsp: new Prisma.Decimal(row.rateIsp),
    rateSms: new Prisma.Decimal(row.rateSms),
    rateVoice: new Prisma.Decimal(row.rateVoice),
    vatRate: new Prisma.Decimal(row.vatRate),
    pointsPerEuro: new Prisma.Decimal(row.pointsPerEuro),
  };
}

const SUBSCRIBER_BY_REF: Statement = {
  name: 'subscriber_by_ref',
  text: `SELECT id, operator_id AS "operatorId", external_ref AS "externalRef", display_name AS "displayName",
      holder_id AS "holderId", blocked, blocked_categories AS "blockedCategories",
      limit_weekly::text AS "limitWeekly", limit_monthly::text AS "limitMonthly", points_allowed AS "pointsAllowed",
      created_at AS "createdAt", updated_at AS "updatedAt"
    FROM subscribers WHERE operator_id = $1::text AND external_ref = $2::text`,
};

type SubscriberRow = Omit<Subscriber, 'limitWeekly' | 'limitMonthly'> & {
  limitWeekly: string | null;
  limitMonthly: string | null;
};

export async function subscriberByRef(
  pool: PgPool,
  operatorId: string,
  externalRef: string,
): Promise<Subscriber | null> {
  const [row] = await onPool(pool).rows<SubscriberRow>(SUBSCRIBER_BY_REF, [operatorId, externalRef]);
  if (!row) return null;
  return {
    ...row,
    blockedCategories: row.blockedCategories ?? [],
    limitWeekly: row.limitWeekly === null ? null : new Prisma.Decimal(row.limitWeekly),
    limitMonthly: row.limitMonthly === null ? null : new Prisma.Decimal(row.limitMonthly),
  };
}
