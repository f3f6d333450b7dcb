import { Decimal, ROUNDING } from '../shared/money.js';

/** Rounding a line to the cent, by the one rule (src/shared/money.ts): half-even, at each line, never on a total. */
export function toCents(value: Decimal.Value): Decimal {
  return new Decimal(value).toDecimalPlaces(2, ROUNDING);
}

export function formatAmount(value: Decimal.Value): string {
  return new Decimal(value).toFixed(2, ROUNDING);
}

// src/domain/operators.ts, which another branch is rewriting, still takes Decimal from here: this line goes
// when it imports src/shared/money.ts like every other caller.
export { Decimal };
