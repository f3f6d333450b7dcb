import Decimal from 'decimal.js';

/**
 * The one rounding rule of Kiosque: half-even to the cent, applied at each line
 * (each commission, each VAT amount), never on a total. Totals are sums of
 * rounded lines, so they add up exactly.
 */
export const ROUNDING = Decimal.ROUND_HALF_EVEN;

export const REGULATORY_MAX_PER_PURCHASE = new Decimal('50.00');
export const REGULATORY_MAX_PER_MONTH = new Decimal('300.00');

const AMOUNT_PATTERN = /^\d{1,9}\.\d{2}$/;

export type Money = Decimal;

export function isAmountString(value: unknown): value is string {
  return typeof value === 'string' && AMOUNT_PATTERN.test(value);
}

/** Parses "2.88"-style strings only; anything else (numbers, exponents, sub-cents) is null. */
export function parseAmount(value: unknown): Money | null {
  return isAmountString(value) ? new Decimal(value) : null;
}

export function toCents(value: Decimal.Value): Money {
  return new Decimal(value).toDecimalPlaces(2, ROUNDING);
}

export function formatAmount(value: Decimal.Value): string {
  return new Decimal(value).toFixed(2, ROUNDING);
}

export function sum(values: Iterable<Decimal.Value>): Money {
  let total = new Decimal(0);
  for (const v of values) total = total.plus(v);
  return total;
}

export { Decimal };
