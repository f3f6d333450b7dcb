import { vatRateString } from '../../domain/vat.js';

type Amount = { toString(): string };

/** What the publisher resource shows: a store record or, on admin paths not yet moved to the store, a Prisma row. */
export interface PublisherView {
  id: string;
  name: string;
  category: string;
  legalName: string | null;
  supportUrl: string | null;
  webhookUrl: string | null;
  rateIsp: Amount;
  rateSms: Amount;
  rateVoice: Amount;
  vatRate: Amount;
  pointsPerEuro: Amount;
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
    vatRate: vatRateString(publisher.vatRate.toString()),
    pointsPerEuro: Number(publisher.pointsPerEuro.toString()),
    suspended: publisher.suspendedAt !== null,
    createdAt: publisher.createdAt.toISOString(),
  };
}
