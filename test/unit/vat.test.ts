import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/shared/money.js';
import { vatBreakdown, vatCreditedUpTo, vatIncluded } from '../../src/domain/vat.js';

const d = (v: string) => new Decimal(v);

describe('vatIncluded: the 20% VAT inside a VAT-inclusive amount', () => {
  it('When the amount is 1.20, then its VAT is exactly 0.20', () => {
    expect(vatIncluded(d('1.20')).toFixed(2)).toBe('0.20');
  });

  it('When the VAT falls between cents, then it is rounded to the nearest cent', () => {
    // 2.00 / 6 = 0.3333…
    expect(vatIncluded(d('2.00')).toFixed(2)).toBe('0.33');
    // 50.00 / 6 = 8.3333…
    expect(vatIncluded(d('50.00')).toFixed(2)).toBe('8.33');
    // 0.05 / 6 = 0.00833…
    expect(vatIncluded(d('0.05')).toFixed(2)).toBe('0.01');
  });

  it('When the VAT is exactly half a cent, then it rounds to the even cent', () => {
    // 0.03 / 6 = 0.005 → 0.00; 0.09 / 6 = 0.015 → 0.02; 0.15 / 6 = 0.025 → 0.02; 0.21 / 6 = 0.035 → 0.04
    expect(vatIncluded(d('0.03')).toFixed(2)).toBe('0.00');
    expect(vatIncluded(d('0.09')).toFixed(2)).toBe('0.02');
    expect(vatIncluded(d('0.15')).toFixed(2)).toBe('0.02');
    expect(vatIncluded(d('0.21')).toFixed(2)).toBe('0.04');
  });

  it('When the amount is a refund credit, then its VAT is the opposite of the charge VAT', () => {
    for (const amount of ['0.03', '0.09', '0.15', '2.00', '4.99']) {
      expect(vatIncluded(d(amount).negated()).toFixed(2)).toBe(vatIncluded(d(amount)).negated().toFixed(2));
    }
  });
});

describe('vatBreakdown: a document adds up its lines per rate', () => {
  const line = (amount: string, vatRate: string) => ({
    amount: d(amount),
    vatRate,
    vat: vatIncluded(d(amount), vatRate),
  });

  it("When lines are summed, then each rate's VAT is the sum of its line VATs, not the VAT of their total", () => {
    const [entry] = vatBreakdown([line('0.09', '0.20'), line('0.09', '0.20'), line('0.09', '0.20')]);
    // Each line: 0.015 → 0.02, so 0.06; the total's own VAT would be 0.045 → 0.04.
    expect(entry).toEqual({ rate: '0.20', base: d('0.21'), vat: d('0.06') });
  });

  it('When a document mixes 2.1% and 20%, then it has one entry per rate, in increasing order, adding up to its totals', () => {
    const lines = [line('4.99', '0.20'), line('1.50', '0.021'), line('2.00', '0.20'), line('-1.50', '0.021')];
    const entries = vatBreakdown(lines);
    expect(entries.map((e) => [e.rate, e.base.toFixed(2), e.vat.toFixed(2)])).toEqual([
      ['0.021', '0.00', '0.00'],
      ['0.20', '5.83', '1.16'],
    ]);
    const total = lines.reduce((s, l) => s.plus(l.amount), d('0'));
    expect(entries.reduce((s, e) => s.plus(e.base).plus(e.vat), d('0')).eq(total)).toBe(true);
  });

  it('When a line carries the VAT a refund credited, then that VAT is the one summed', () => {
    const [entry] = vatBreakdown([{ amount: d('-0.10'), vatRate: '0.20', vat: d('-0.01') }]);
    expect(entry).toEqual({ rate: '0.20', base: d('-0.09'), vat: d('-0.01') });
  });
});

describe('vatCreditedUpTo: refunds never credit more VAT than was charged', () => {
  it('When 0.15 charged with 0.02 VAT is refunded 0.05 then 0.10, then 0.01 then 0.02 in all is credited', () => {
    expect(vatCreditedUpTo(d('0.02'), d('0.15'), d('0.05')).toFixed(2)).toBe('0.01');
    expect(vatCreditedUpTo(d('0.02'), d('0.15'), d('0.15')).toFixed(2)).toBe('0.02');
  });

  it('When a purchase is wholly refunded, then all its VAT is credited, whatever the rounding of the shares', () => {
    expect(vatCreditedUpTo(d('0.33'), d('1.99'), d('1.99')).toFixed(2)).toBe('0.33');
    expect(vatCreditedUpTo(d('0.33'), d('1.99'), d('0.00')).toFixed(2)).toBe('0.00');
  });
});
