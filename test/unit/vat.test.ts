import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/domain/money.js';
import { invoiceVat, vatIncluded } from '../../src/domain/vat.js';

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

describe('invoiceVat: an invoice adds up its lines', () => {
  it('When lines are summed, then the invoice VAT is the sum of line VATs, not the VAT of the total', () => {
    const lines = [d('0.09'), d('0.09'), d('0.09')];
    const breakdown = invoiceVat(lines);
    expect(breakdown.total.toFixed(2)).toBe('0.27');
    // Each line: 0.015 → 0.02, so 0.06; the total's own VAT would be 0.045 → 0.04.
    expect(breakdown.vat.toFixed(2)).toBe('0.06');
    expect(breakdown.net.plus(breakdown.vat).eq(breakdown.total)).toBe(true);
  });

  it('When a refund credit cancels a charge, then total and VAT are both zero', () => {
    const breakdown = invoiceVat([d('4.99'), d('-4.99')]);
    expect(breakdown.total.isZero()).toBe(true);
    expect(breakdown.vat.isZero()).toBe(true);
  });
});
