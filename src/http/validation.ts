import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import { Decimal, REGULATORY_MAX_PER_PURCHASE, positiveAmount, positiveAmountString } from '../shared/money.js';

/** Parses `value` with `schema`, or throws 400 invalid_request naming each bad field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const at = issue.path.join('.');
    // An unknown field is named itself, not the object holding it, so the caller sees which one.
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields[at ? `${at}.${key}` : key] ??= 'unknown field';
      continue;
    }
    fields[at || 'body'] ??= issue.message;
  }
  throw new AppError('invalid_request', `Invalid ${Object.keys(fields).join(', ')}`, { fields });
}

/** A JSON object body; a missing or non-object body is reported as such. */
export const body = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, { error: () => 'expected a JSON object with known fields only' });

/** A purchase amount: above 0.00 and at most the regulatory 50.00. */
export const purchaseAmount = positiveAmountString
  .refine((v) => new Decimal(v).lte(REGULATORY_MAX_PER_PURCHASE), 'must be at most 50.00')
  .meta({ pattern: '^\\d+\\.\\d{2}$', example: '2.88', description: 'Euros, above 0.00 and at most 50.00' });

export const description = z.string().min(1).max(200);

export const httpsUrl = z.url({ protocol: /^https$/, error: 'expected an https URL' }).max(2048);

export const pagination = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(100).optional(),
});

/** Kiosque Points a publisher's sales award per euro: 0 to 1000, at most two decimals, as a number or a string. */
export const pointsPerEuro = z
  .union([z.number(), z.string()])
  .transform((v) => String(v))
  .refine((v) => /^\d{1,4}(\.\d{1,2})?$/.test(v) && Number(v) <= 1000, 'expected a number of points from 0 to 1000')
  .meta({ example: 2, description: 'Points per euro of sales, at most two decimals' });

/** The euro value of one point: above 0.00 and at most 1.00. */
export const pointValue = positiveAmount.refine((v) => v.lte(1), 'must be at most 1.00');

/** A number of points to spend: a whole number, 0 for none. */
export const pointsToSpend = z.number().int().min(0).max(5_000_000);
