import { Decimal, toCents } from './money.js';

/** French standard rate; Kiosque's amounts are VAT-inclusive, so VAT is a share of them. */
export const VAT_RATE_PERCENT = 20;

/**
 * The VAT inside a VAT-inclusive line amount: amount × 20 / 120, rounded
 * half-even to the cent by the rule of money.ts. Negative lines (refund
 * credits) get the exact opposite of their positive twin, since half-even is
 * symmetric around zero.
 */
export function vatIncluded(amount: Decimal): Decimal {
  return toCents(amount.times(VAT_RATE_PERCENT).dividedBy(100 + VAT_RATE_PERCENT));
}

export interface VatBreakdown {
  total: Decimal;
  vat: Decimal;
  net: Decimal;
}

/** An invoice's VAT is the sum of its lines' VAT, never a rounding of its total. */
export function invoiceVat(lineAmounts: readonly Decimal[]): VatBreakdown {
  let total = new Decimal(0);
  let vat = new Decimal(0);
  for (const amount of lineAmounts) {
    total = total.plus(amount);
    vat = vat.plus(vatIncluded(amount));
  }
  return { total, vat, net: total.minus(vat) };
}
