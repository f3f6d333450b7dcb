/**
 * CSV safety (docs/operators.md): a spreadsheet runs a cell that starts with = + - @, a
 * tab or a carriage return as a formula (OWASP "CSV injection"). Such a cell
 * is written with a leading ' unless it is a plain decimal number such as
 * "-2.88", which must stay a number for the accountant.
 */
const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;
const FORMULA_START = /^[=+\-@\t\r]/;

/** What a CSV row holds: text (amounts are exact decimal text) and counts; null is an empty cell. */
export type CsvCell = string | number | bigint | boolean | null | undefined;

export function csvSafeCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  if (PLAIN_DECIMAL.test(text) || !FORMULA_START.test(text)) return text;
  return `'${text}`;
}

/** A row with every cell made safe; every CSV writer passes its rows through this. */
export function csvSafeRow<T extends Record<string, CsvCell>>(row: T): Record<keyof T, string> {
  const safe = {} as Record<keyof T, string>;
  for (const key of Object.keys(row) as (keyof T)[]) safe[key] = csvSafeCell(row[key]);
  return safe;
}
