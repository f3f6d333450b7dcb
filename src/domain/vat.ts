import { Decimal, type VatRate } from '../shared/money.js';
import { toCents } from './money.js';

/** A stored rate (numeric(5,4), "0.0210") as the API writes it ("0.021", "0.10"). */
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

/**
 * The VAT credited for a purchase once `refunded` of its `amount` has been
 * given back, out of the `chargedVat` its invoice charged: in proportion,
 * half-even, and all of it once the purchase is wholly refunded. It grows with
 * `refunded` and never exceeds `chargedVat`, so each refund credits what it
 * adds (the last one the remainder). The billing run computes it in SQL
 * (store/billing-sql.ts vatCreditedUpToSql), held to this cent by cent by
 * test/billing.sql-rounding.test.ts: only tests call it, as that reference.
 * @internal
 */
export function vatCreditedUpTo(chargedVat: Decimal, amount: Decimal, refunded: Decimal): Decimal {
  if (refunded.gte(amount)) return chargedVat;
  return toCents(chargedVat.times(refunded).dividedBy(amount));
}

interface VatRateTotal {
  rate: string;
  /** The lines' amounts at this rate less their VAT. */
  base: Decimal;
  vat: Decimal;
}

/**
 * A document's VAT per rate (docs/money.md), from its lines:
 * each rate's `vat` sums its lines' VAT and its `base` their amounts less that
 * VAT, so the entries' base + vat add up to the total and their vat to the VAT
 * total. Rates in increasing order.
 */
export function vatBreakdown(
  lines: readonly { amount: Decimal; vatRate: Decimal.Value; vat: Decimal }[],
): VatRateTotal[] {
  const byRate = new Map<string, { rate: Decimal; amount: Decimal; vat: Decimal }>();
  for (const line of lines) {
    const rate = new Decimal(line.vatRate);
    const key = rate.toString();
    const entry = byRate.get(key) ?? { rate, amount: new Decimal(0), vat: new Decimal(0) };
    byRate.set(key, { rate, amount: entry.amount.plus(line.amount), vat: entry.vat.plus(line.vat) });
  }
  return [...byRate.values()]
    .sort((a, b) => a.rate.comparedTo(b.rate))
    .map((e) => ({ rate: vatRateString(e.rate), base: e.amount.minus(e.vat), vat: e.vat }));
}
