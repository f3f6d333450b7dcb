import type { Decimal } from '../../shared/money.js';
import { vatRateString } from '../../domain/vat.js';

/** What the publisher resource shows, from a store record. */
export interface PublisherView {
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
}

export function publisherResource(publisher: PublisherView) {
  return {
    id: publisher.id,
    name: publisher.name,
    category: publisher.category,
    legalName: publisher.legalName,
    supportUrl: publisher.supportUrl,
    webhookUrl: publisher.webhookUrl,
    commissionRates: {
      isp: publisher.rateIsp.toString(),
      sms: publisher.rateSms.toString(),
      voice: publisher.rateVoice.toString(),
    },
    vatRate: vatRateString(publisher.vatRate),
    pointsPerEuro: publisher.pointsPerEuro.toNumber(),
    suspended: publisher.suspendedAt !== null,
    createdAt: publisher.createdAt.toISOString(),
  };
}
