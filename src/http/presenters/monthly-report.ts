import type { Decimal } from '../../shared/money.js';
import type { MonthlyReportLine } from '../../domain/monthly-report.js';
import { DECLINE_CODES } from '../../shared/codes.js';

export interface MonthlyReportRow extends Omit<MonthlyReportLine, 'volume' | 'disputeRate' | 'conversion'> {
  volume: string;
  disputeRate: string | null;
  conversion: string | null;
}

export interface MonthlyReport {
  month: string;
  from: string;
  to: string;
  data: MonthlyReportRow[];
}

const rate = (value: Decimal | null) => (value === null ? null : value.toFixed(4));

/** GET /v1/admin/reports/monthly: volumes in euros to the cent, rates to four places. */
export function monthlyReportResource(
  month: string,
  bounds: { from: Date; to: Date },
  lines: readonly MonthlyReportLine[],
): MonthlyReport {
  return {
    month,
    from: bounds.from.toISOString(),
    to: bounds.to.toISOString(),
    data: lines.map((line) => ({
      ...line,
      volume: line.volume.toFixed(2),
      disputeRate: rate(line.disputeRate),
      conversion: rate(line.conversion),
    })),
  };
}

/** The CSV columns, one per figure, declines spread one column per code. */
export const REPORT_CSV_COLUMNS = [
  'month',
  'operatorId',
  'operatorName',
  'publisherId',
  'publisherName',
  'confirmations',
  'volume',
  'declines',
  ...DECLINE_CODES.map((code) => `declines_${code}`),
  'disputes',
  'disputeRate',
  'consentPagesShown',
  'conversion',
] as const;

export function reportCsvRecords(report: MonthlyReport): Record<string, string | number>[] {
  return report.data.map(({ declinesByCode, ...r }) => ({
    month: report.month,
    ...r,
    ...Object.fromEntries(DECLINE_CODES.map((code) => [`declines_${code}`, declinesByCode[code] ?? 0])),
    disputeRate: r.disputeRate ?? '',
    conversion: r.conversion ?? '',
  }));
}
