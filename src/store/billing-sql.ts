/**
 * money.ts's rule (half-even to the cent) written in SQL, for the set-based
 * statements that must round a million lines without bringing them into
 * JavaScript. PostgreSQL's own round() goes half away from zero, so it will not
 * do. test/billing.sql-rounding.test.ts holds this to decimal.js, cent by cent.
 * `value` is an SQL expression (columns and placeholders, never a value).
 */
export function roundHalfEvenCentsSql(value: string): string {
  const cents = `(abs(${value}) * 100)`;
  return `(sign(${value}) * (trunc(${cents}) + CASE
      WHEN ${cents} - trunc(${cents}) > 0.5 THEN 1
      WHEN ${cents} - trunc(${cents}) = 0.5 AND mod(trunc(${cents}), 2) = 1 THEN 1
      ELSE 0 END) / 100)::numeric(14, 2)`;
}

/** vat.ts's vatIncluded for a VAT-inclusive amount and a rate, both SQL expressions (the rate 20% unless given). */
export function vatIncludedSql(amount: string, rate = '0.20'): string {
  return roundHalfEvenCentsSql(`(${amount} * ${rate} / (1 + ${rate}))`);
}

/**
 * vat.ts's vatCreditedUpTo in SQL: the VAT credited for a purchase once
 * `refunded` of its `amount` has been given back, out of the `chargedVat` its
 * invoice line charged. test/billing.sql-rounding.test.ts holds it to the TypeScript.
 */
export function vatCreditedUpToSql(chargedVat: string, amount: string, refunded: string): string {
  return `(CASE WHEN ${refunded} >= ${amount} THEN ${chargedVat}
    ELSE ${roundHalfEvenCentsSql(`(${chargedVat} * ${refunded} / ${amount})`)} END)`;
}
