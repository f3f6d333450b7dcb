import { Decimal } from '../shared/money.js';

/**
 * Splits `total` across `weights` in proportion, to the cent, by largest
 * remainder: each share is first floored to the cent, then the cents left
 * over go one by one to the largest remainders (ties to the earlier weight).
 * The shares sum to `total` exactly and none exceeds its weight when `total`
 * is at most the sum of the weights.
 */
export function allocateByLargestRemainder(total: Decimal, weights: readonly Decimal[]): Decimal[] {
  const totalCents = total.times(100);
  if (!totalCents.isInteger() || totalCents.isNegative()) throw new Error(`cannot allocate ${total.toString()}`);
  const weightSum = weights.reduce((s, w) => s.plus(w), new Decimal(0));
  if (weights.length === 0 || weightSum.isZero()) {
    if (totalCents.isZero()) return weights.map(() => new Decimal(0));
    throw new Error('cannot allocate an amount over no weight');
  }
  const exact = weights.map((w) => totalCents.times(w).dividedBy(weightSum));
  const cents = exact.map((e) => e.floor());
  let left = totalCents.minus(cents.reduce((s, c) => s.plus(c), new Decimal(0))).toNumber();
  const order = exact
    .map((e, i) => ({ i, remainder: e.minus(cents[i] as Decimal) }))
    .sort((a, b) => b.remainder.comparedTo(a.remainder) || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    cents[i] = (cents[i] as Decimal).plus(1);
    left -= 1;
  }
  return cents.map((c) => c.dividedBy(100));
}
