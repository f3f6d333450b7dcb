import Decimal from 'decimal.js';
import { z } from 'zod';

/** Kiosque bills in euros only; the journal's second unit is Kiosque Points (see accounts.ts). */
export const CURRENCY = 'EUR';

/**
 * The one rounding rule of Kiosque: half-even to the cent, applied at each line
 * (each commission, each VAT amount), never on a total. Totals are sums of
 * rounded lines, so they add up exactly.
 */
export const ROUNDING = Decimal.ROUND_HALF_EVEN;

export const REGULATORY_MAX_PER_PURCHASE = new Decimal('50.00');
export const REGULATORY_MAX_PER_MONTH = new Decimal('300.00');

/** docs/operators.md: an operator's limits unless it registers with its own. */
export const DEFAULT_OPERATOR_LIMITS = { perPurchase: '30.00', weekly: '60.00', monthly: '150.00' } as const;

/** The French rates a digital product can carry: online press 2.1%, then 5.5%, 10% and the standard 20%. */
export const VAT_RATES = ['0.021', '0.055', '0.10', '0.20'] as const;
export type VatRate = (typeof VAT_RATES)[number];

const AMOUNT_PATTERN = /^\d{1,9}\.\d{2}$/;

/** "2.88": exactly two decimals, no sign, no exponent. */
export function isAmountString(value: unknown): value is string {
  return typeof value === 'string' && AMOUNT_PATTERN.test(value);
}

/** "2.88": a string with exactly two decimals, no sign, no exponent. */
export const amountString = z
  .string({ error: 'expected a decimal string such as "2.88"' })
  // abort: later refinements build a Decimal from the value, which throws on anything else.
  .refine(isAmountString, { message: 'expected a decimal string with two decimals, such as "2.88"', abort: true })
  .meta({ pattern: '^\\d+\\.\\d{2}$', example: '2.88', description: 'Euros as a string with two decimals' });

/** An amount, parsed to the Decimal the domain takes. */
export const amount = amountString.transform((v) => new Decimal(v));

/** An amount string above 0.00: the one place that rule is written. */
export const positiveAmountString = amountString.refine((v) => new Decimal(v).gt(0), 'must be above 0.00');

/** An amount above 0.00, parsed to the Decimal the domain takes. */
export const positiveAmount = positiveAmountString.transform((v) => new Decimal(v));

export { Decimal };
