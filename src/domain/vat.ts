import { Decimal, toCents } from './money.js';

/** The French rates a digital product can carry: online press 2.1%, then 5.5%, 10% and the standard 20%. */
export const VAT_RATES = ['0.021', '0.055', '0.10', '0.20'] as const;
export type VatRate = (typeof VAT_RATES)[number];

/** A stored rate (numeric(5,4), "0.0210") as API.md writes it ("0.021", "0.10"). */
export function vatRateString(rate: Decimal.Value): string {
  const text = new Decimal(rate).toString();
  return text.includes('.') && text.split('.')[1]?.length === 1 ? `${text}0` : text;
}

/** French online press is taxed at 2.1% (CGI art. 298 septies); everything else Kiosque sells at the standard 20%. */
export function defaultVatRate(category: string): VatRate {
  return category === 'press' ? '0.021' : '0.20';
}

/**
 * The VAT inside a VAT-inclusive line amount: amount × rate / (1 + rate),
 * rounded half-even to the cent by the rule of money.ts. Negative lines (refund
 * credits) get the exact opposite of their positive twin, since half-even is
 * symmetric around zero. The rate defaults to 20% for callers that predate VAT by product.
 */
export function vatIncluded(amount: Decimal, rate: Decimal.Value = '0.20'): Decimal {
  const r = new Decimal(rate);
  return toCents(amount.times(r).dividedBy(r.plus(1)));
}

export interface VatBreakdown {
  total: Decimal;
  vat: Decimal;
  net: Decimal;
}

/** An invoice's VAT is the sum of its lines' VAT, never a rounding of its total. */
export function invoiceVat(lines: readonly (Decimal | { amount: Decimal; rate: Decimal.Value })[]): VatBreakdown {
  let total = new Decimal(0);
  let vat = new Decimal(0);
  for (const line of lines) {
    const { amount, rate } = line instanceof Decimal ? { amount: line, rate: '0.20' } : line;
    total = total.plus(amount);
    vat = vat.plus(vatIncluded(amount, rate));
  }
  return { total, vat, net: total.minus(vat) };
}
