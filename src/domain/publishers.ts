import { newId } from '../ids.js';
import { insertPublisher, setSuspension, type PublisherProfileRecord } from '../store/publishers.js';
import type { Sql } from '../store/sql.js';
import type { Category } from './categories.js';
import { CHANNELS, type Channel } from '../shared/catalogue.js';
import { DEFAULT_COMMISSION_RATES } from './commission.js';
import { hashApiKey, newApiKey, newWebhookSecret } from './credentials.js';
import { notFound } from './errors.js';
import { defaultVatRate } from './vat.js';

export type Publisher = PublisherProfileRecord;

export interface NewPublisher {
  name: string;
  category: Category;
  legalName?: string | undefined;
  supportUrl?: string | undefined;
  webhookUrl?: string | undefined;
  commissionRates?: Partial<Record<Channel, string>> | undefined;
  vatRate?: string | undefined;
  pointsPerEuro?: string | undefined;
}

/**
 * Registers a publisher with its credentials, each returned once: only the API
 * key's hash is kept. Unset rates are the defaults, an unset VAT rate its category's.
 */
export async function registerPublisher(
  tx: Sql,
  input: NewPublisher,
): Promise<{ publisher: Publisher; apiKey: string; webhookSecret: string }> {
  const apiKey = newApiKey('publisher');
  const rates = Object.fromEntries(
    CHANNELS.map((channel) => [
      channel,
      input.commissionRates?.[channel] ?? DEFAULT_COMMISSION_RATES[channel].toString(),
    ]),
  ) as Record<Channel, string>;
  const webhookSecret = newWebhookSecret();
  const publisher = await insertPublisher(tx, {
    id: newId('pub'),
    name: input.name,
    category: input.category,
    legalName: input.legalName ?? null,
    supportUrl: input.supportUrl ?? null,
    webhookUrl: input.webhookUrl ?? null,
    webhookSecret,
    apiKeyHash: hashApiKey(apiKey),
    rates,
    vatRate: input.vatRate ?? defaultVatRate(input.category),
    pointsPerEuro: input.pointsPerEuro ?? '0',
  });
  return { publisher, apiKey, webhookSecret };
}

/** The admin suspends a publisher (keeping an earlier suspension's time) or reinstates it. */
export async function setPublisherSuspended(
  tx: Sql,
  publisherId: string,
  suspended: boolean,
  now = new Date(),
): Promise<Publisher> {
  const publisher = await setSuspension(tx, publisherId, suspended, now);
  if (!publisher) throw notFound('Publisher');
  return publisher;
}
