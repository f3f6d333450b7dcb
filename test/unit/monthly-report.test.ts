import { describe, expect, it } from 'vitest';
import { monthBounds, monthlyReportLines } from '../../src/domain/monthly-report.js';
import { monthlyReportResource, reportCsvRecords } from '../../src/http/presenters/monthly-report.js';
import { csvSafeCell } from '../../src/http/presenters/csv.js';

describe('monthBounds', () => {
  it('When a month is given, then it spans Europe/Paris midnights, across a DST change too', () => {
    expect(monthBounds('2026-11')).toEqual({
      from: new Date('2026-10-31T23:00:00Z'),
      to: new Date('2026-11-30T23:00:00Z'),
    });
    expect(monthBounds('2026-03')).toEqual({
      from: new Date('2026-02-28T23:00:00Z'),
      to: new Date('2026-03-31T22:00:00Z'),
    });
    expect(monthBounds('2026-12').to).toEqual(new Date('2026-12-31T23:00:00Z'));
  });

  it('When the month is not YYYY-MM, then it is invalid_request naming month', () => {
    for (const bad of ['2026-13', '2026-1', '26-11', '2026-11-01', '']) {
      expect(() => monthBounds(bad)).toThrow(
        expect.objectContaining({ code: 'invalid_request', details: { month: 'expected YYYY-MM' } }),
      );
    }
  });
});

describe('the monthly report', () => {
  const key = { operatorId: 'op_1', publisherId: 'pub_1' };
  const figures = {
    confirmed: [{ ...key, confirmations: 3, volume: '7.5', offerConfirmations: 2 }],
    declined: [
      { ...key, code: 'weekly_ceiling', count: 2 },
      { ...key, code: 'account_blocked', count: 1 },
      { operatorId: 'op_1', publisherId: 'pub_2', code: 'monthly_ceiling', count: 1 },
    ],
    disputes: [{ ...key, count: 1 }],
    pagesShown: [{ ...key, count: 3 }],
    operators: [{ id: 'op_1', name: 'Fibre' }],
    publishers: [
      { id: 'pub_1', name: 'Gazette' },
      { id: 'pub_2', name: 'Arcade' },
    ],
  };
  const report = monthlyReportResource('2026-11', monthBounds('2026-11'), monthlyReportLines(figures));

  it('When figures come in, then each operator and publisher gets one row with rates to four places, half-even', () => {
    expect(report.data.map((r) => r.publisherName)).toEqual(['Arcade', 'Gazette']);
    expect(report.data[1]).toMatchObject({
      confirmations: 3,
      volume: '7.50',
      declines: 3,
      disputes: 1,
      disputeRate: '0.3333',
      consentPagesShown: 3,
      conversion: '0.6667',
    });
    expect(report.data[1]!.declinesByCode).toMatchObject({ weekly_ceiling: 2, account_blocked: 1, monthly_ceiling: 0 });
  });

  it('When a pair has no confirmation or no page shown, then its rates are null, not zero or infinite', () => {
    expect(report.data[0]).toMatchObject({
      confirmations: 0,
      volume: '0.00',
      disputeRate: null,
      conversion: null,
      declines: 1,
    });
  });

  it('When written as CSV records, then declines spread one column per code and null rates are empty', () => {
    const [arcade] = reportCsvRecords(report);
    expect(arcade).toMatchObject({
      month: '2026-11',
      declines_monthly_ceiling: 1,
      declines_weekly_ceiling: 0,
      disputeRate: '',
      conversion: '',
    });
  });
});

describe('csvSafeCell', () => {
  it('When a text cell starts with = + - @ tab or CR, then it gets a leading quote; decimals and other text stay', () => {
    expect(['=1+1', '+33', '-x', '@SUM', '\tA', '\rB'].map(csvSafeCell)).toEqual([
      "'=1+1",
      "'+33",
      "'-x",
      "'@SUM",
      "'\tA",
      "'\rB",
    ]);
    expect(['-1.00', '2.88', 'Gazette', 3].map(csvSafeCell)).toEqual(['-1.00', '2.88', 'Gazette', '3']);
  });
});
