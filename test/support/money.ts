import Decimal from 'decimal.js';

/** The exact sum of amounts, for tests that add up what the API or the journal reports. */
export function sum(values: Iterable<Decimal.Value>): Decimal {
  let total = new Decimal(0);
  for (const v of values) total = total.plus(v);
  return total;
}
