import { TZDate } from '@date-fns/tz';
import { Decimal } from '../shared/money.js';
import { AppError } from './errors.js';
import { BILLING_TIME_ZONE } from './periods.js';
import { DECLINE_CODES } from '../shared/codes.js';
import { monthlyFigures, recordConsentPageShown } from '../store/monthly-report.js';
import type { Sql } from '../store/sql.js';

/** One operator and publisher over the month: what they did, and the rates that follow from it. */
export interface MonthlyReportLine {
  operatorId: string;
  operatorName: string;
  publisherId: string;
  publisherName: string;
  confirmations: number;
  /** Sum of the confirmed amounts, euros. */
  volume: Decimal;
  declines: number;
  declinesByCode: Record<string, number>;
  disputes: number;
  /** Disputes opened in the month over confirmations in the month, to four places; null without confirmations. */
  disputeRate: Decimal | null;
  consentPagesShown: number;
  /** Confirmations of offers (not renewals) over consent pages shown, to four places; null when none was shown. */
  conversion: Decimal | null;
}

/** A calendar month "YYYY-MM" as [from, to) instants, Europe/Paris like every Kiosque month. */
export function monthBounds(month: string): { from: Date; to: Date } {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) throw new AppError('invalid_request', 'month must be YYYY-MM', { month: 'expected YYYY-MM' });
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  const from = new Date(new TZDate(year, index, 1, BILLING_TIME_ZONE).getTime());
  const to = new Date(new TZDate(year, index + 1, 1, BILLING_TIME_ZONE).getTime());
  return { from, to };
}

const ratio = (numerator: number, denominator: number): Decimal | null =>
  denominator === 0 ? null : new Decimal(numerator).div(denominator).toDecimalPlaces(4, Decimal.ROUND_HALF_EVEN);

interface Keyed {
  operatorId: string;
  publisherId: string;
}
interface Figures {
  confirmed: (Keyed & { confirmations: number; volume: string; offerConfirmations: number })[];
  declined: (Keyed & { code: string; count: number })[];
  disputes: (Keyed & { count: number })[];
  pagesShown: (Keyed & { count: number })[];
  operators: { id: string; name: string }[];
  publishers: { id: string; name: string }[];
}

/** One row per operator and publisher that did anything in the month, ordered by operator then publisher name. */
export function monthlyReportLines(figures: Figures): MonthlyReportLine[] {
  const rows = new Map<string, MonthlyReportLine & { offerConfirmations: number }>();
  const operatorName = new Map(figures.operators.map((o) => [o.id, o.name]));
  const publisherName = new Map(figures.publishers.map((p) => [p.id, p.name]));
  const row = ({ operatorId, publisherId }: Keyed) => {
    const key = `${operatorId}\u0000${publisherId}`;
    let found = rows.get(key);
    if (!found) {
      found = {
        operatorId,
        operatorName: operatorName.get(operatorId) ?? '',
        publisherId,
        publisherName: publisherName.get(publisherId) ?? '',
        confirmations: 0,
        volume: new Decimal(0),
        declines: 0,
        declinesByCode: Object.fromEntries(DECLINE_CODES.map((code) => [code, 0])),
        disputes: 0,
        disputeRate: null,
        consentPagesShown: 0,
        conversion: null,
        offerConfirmations: 0,
      };
      rows.set(key, found);
    }
    return found;
  };
  for (const c of figures.confirmed) {
    const r = row(c);
    r.confirmations = c.confirmations;
    r.volume = new Decimal(c.volume);
    r.offerConfirmations = c.offerConfirmations;
  }
  for (const d of figures.declined) {
    const r = row(d);
    r.declines += d.count;
    r.declinesByCode[d.code] = (r.declinesByCode[d.code] ?? 0) + d.count;
  }
  for (const d of figures.disputes) row(d).disputes = d.count;
  for (const s of figures.pagesShown) row(s).consentPagesShown = s.count;
  return [...rows.values()]
    .map(({ offerConfirmations, ...r }) => ({
      ...r,
      disputeRate: ratio(r.disputes, r.confirmations),
      conversion: ratio(offerConfirmations, r.consentPagesShown),
    }))
    .sort(
      (a, b) =>
        a.operatorName.localeCompare(b.operatorName) ||
        a.publisherName.localeCompare(b.publisherName) ||
        a.publisherId.localeCompare(b.publisherId),
    );
}

/** The month's report lines, from what the store sums over its bounds. */
export async function reportOfMonth(
  sql: Sql,
  month: string,
): Promise<{ bounds: { from: Date; to: Date }; lines: MonthlyReportLine[] }> {
  const bounds = monthBounds(month);
  return { bounds, lines: monthlyReportLines(await monthlyFigures(sql, bounds.from, bounds.to)) };
}

/** Counts a consent page shown, once per offer: the monthly report's conversion divides confirmations by it. */
export function countConsentPageShown(sql: Sql, operatorId: string, offerId: string): Promise<void> {
  return recordConsentPageShown(sql, operatorId, offerId);
}
