import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allocateByLargestRemainder } from '../../src/domain/allocation.js';
import { csvSafeCell } from '../../src/http/presenters/csv.js';
import { Decimal } from '../../src/shared/money.js';
import { defaultVatRate, vatIncluded, vatRateString } from '../../src/domain/vat.js';

const d = (v: string) => new Decimal(v);

describe('VAT by product', () => {
  it('When a Les Echos-style article at 2.88 is sold by a press publisher, then its VAT is 0.06, not 0.48', () => {
    expect(defaultVatRate('press')).toBe('0.021');
    expect(vatIncluded(d('2.88'), defaultVatRate('press')).toFixed(2)).toBe('0.06');
    expect(vatIncluded(d('2.88'), defaultVatRate('games')).toFixed(2)).toBe('0.48');
  });

  it('When rates are stored with four decimals, then they read as API.md writes them', () => {
    expect(['0.0210', '0.0550', '0.1000', '0.2000'].map(vatRateString)).toEqual(['0.021', '0.055', '0.10', '0.20']);
  });
});

describe('allocateByLargestRemainder', () => {
  it('When 1.00 is split over three equal weights, then the extra cent goes to the first', () => {
    expect(allocateByLargestRemainder(d('1.00'), [d('1.00'), d('1.00'), d('1.00')]).map((x) => x.toFixed(2))).toEqual([
      '0.34',
      '0.33',
      '0.33',
    ]);
  });

  it('When the remainders differ, then the leftover cents go to the largest ones', () => {
    // 0.05 over 2.00 / 1.00 / 1.00: exact 2.5, 1.25, 1.25 cents → floors 2, 1, 1 → the 0.5 remainder wins the last cent.
    expect(allocateByLargestRemainder(d('0.05'), [d('2.00'), d('1.00'), d('1.00')]).map((x) => x.toFixed(2))).toEqual([
      '0.03',
      '0.01',
      '0.01',
    ]);
  });

  it('When any amount is split over any weights, then the shares sum to it exactly and none passes its weight', () => {
    const cents = fc.integer({ min: 1, max: 5_000 });
    fc.assert(
      fc.property(
        fc.array(cents, { minLength: 1, maxLength: 12 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (weights, fraction) => {
          const w = weights.map((c) => new Decimal(c).dividedBy(100));
          const total = w.reduce((s, x) => s.plus(x), new Decimal(0));
          const amount = total.times(fraction).toDecimalPlaces(2, Decimal.ROUND_DOWN);
          const shares = allocateByLargestRemainder(amount, w);
          expect(shares.reduce((s, x) => s.plus(x), new Decimal(0)).eq(amount)).toBe(true);
          shares.forEach((share, i) => {
            expect(share.gte(0) && share.lte(w[i] as Decimal)).toBe(true);
            expect(share.times(100).isInteger()).toBe(true);
          });
        },
      ),
    );
  });
});

describe('csvSafeCell', () => {
  it('When a cell starts like a formula, then it gets a leading quote', () => {
    for (const payload of [
      '=HYPERLINK("http://evil.example","x")',
      "+1+cmd|' /C calc'!A0",
      "@SUM(1+1)*cmd|' /C calc'!A0",
      '\t=1+1',
      '\r=1+1',
      '-2+3',
    ]) {
      expect(csvSafeCell(payload)).toBe(`'${payload}`);
    }
  });

  it('When a cell is a plain decimal number, negative ones included, or ordinary text, then it is unchanged', () => {
    for (const value of ['-1.50', '2.88', '0', '-3', 'An article', 'a=b', '']) expect(csvSafeCell(value)).toBe(value);
    expect(csvSafeCell(null)).toBe('');
  });
});
