import { describe, expect, it } from 'vitest';
import { commissionOn, DEFAULT_COMMISSION_RATES } from '../../src/domain/commission.js';
import { formatAmount, toCents } from '../../src/domain/money.js';
import { amount, Decimal } from '../../src/shared/money.js';
import { sum } from '../support/money.js';

const parseAmount = (value: unknown) => amount.safeParse(value).data ?? null;

describe('the amount schema', () => {
  it('When given a two-decimal string, then it parses exactly to a Decimal', () => {
    expect(parseAmount('2.88')?.toFixed(2)).toBe('2.88');
    expect(parseAmount('0.01')?.toFixed(2)).toBe('0.01');
  });

  it('When given numbers, exponents, signs, sub-cents or missing decimals, then it refuses', () => {
    for (const bad of [
      2.88,
      '2.8',
      '2.888',
      '2',
      '-1.00',
      '+1.00',
      '1e2',
      '1.00e0',
      ' 1.00',
      '1,00',
      '0x10',
      '',
      null,
      undefined,
      'NaN',
      'Infinity',
    ]) {
      expect(parseAmount(bad)).toBeNull();
    }
  });
});

describe('rounding: half-even to the cent, per line', () => {
  it('When a value sits exactly on half a cent, then it goes to the even cent', () => {
    expect(toCents('1.665').toFixed(2)).toBe('1.66');
    expect(toCents('1.675').toFixed(2)).toBe('1.68');
    expect(toCents('0.125').toFixed(2)).toBe('0.12');
    expect(formatAmount('0.135')).toBe('0.14');
  });

  it('When commissions are computed per channel, then the default rates apply and round per purchase', () => {
    expect(commissionOn(new Decimal('2.99'), DEFAULT_COMMISSION_RATES.isp).toFixed(2)).toBe('0.45'); // 0.4485
    expect(commissionOn(new Decimal('2.99'), DEFAULT_COMMISSION_RATES.voice).toFixed(2)).toBe('0.90'); // 0.897
    expect(commissionOn(new Decimal('0.05'), DEFAULT_COMMISSION_RATES.sms).toFixed(2)).toBe('0.02'); // 0.025 → even
  });

  it('When a thousand cents are summed, then the total is exact (no float drift)', () => {
    expect(sum(Array.from({ length: 1000 }, () => '0.10')).toFixed(2)).toBe('100.00');
    expect(0.1 * 3).not.toBe(0.3); // the reason we never use floats
    expect(sum(['0.10', '0.10', '0.10']).toFixed(2)).toBe('0.30');
  });
});
