import { Decimal, ROUNDING } from '../shared/money.js';

/** Rounding a line to the cent, by the one rule (src/shared/money.ts): half-even, at each line, never on a total. */
export function toCents(value: Decimal.Value): Decimal {
  return new Decimal(value).toDecimalPlaces(2, ROUNDING);
}

export function formatAmount(value: Decimal.Value): string {
  return new Decimal(value).toFixed(2, ROUNDING);
}
