import { chunkDocsSql, chunkDocsValues, type ChunkLease, type Client, type RunHead } from './billing-session.js';

/**
 * Legal document numbers (docs/money.md): `<YYYY>-<code>-<n>`, one
 * unbroken sequence per operator and year of issue in Europe/Paris.
 */

const PARIS_YEAR = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', year: 'numeric' });

/** The calendar year in Paris at `at` (New Year's Eve 23:30 UTC is already next year there). */
export function parisYear(at: Date): number {
  return Number(PARIS_YEAR.format(at));
}

/** The `n`th document of the operator whose code is `code`, issued in `year`; `n` on six digits at least. */
export function documentNumber(year: number, code: string, n: number): string {
  if (!/^[A-Z0-9]{1,10}$/.test(code)) throw new Error(`"${code}" is no operator document code`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${n} is no document's place in its sequence`);
  return `${year}-${code}-${String(n).padStart(6, '0')}`;
}

/**
 * Numbers the chunk's documents, in the transaction that issues them: the
 * operator's counter for the year is moved on by their count and stays locked
 * until that transaction ends, so a rollback gives the numbers back and a
 * concurrent chunk or run takes the next ones after this one commits. Done
 * last in the chunk, so that the lock is held only for its commit. The
 * documents are dated when their numbers are taken, under that lock: chunks
 * write their documents side by side but number them one after the other, so
 * a date taken earlier could put number 4 before number 2.
 */
export async function numberDocuments(client: Client, run: RunHead, chunk: ChunkLease, now: Date): Promise<void> {
  const { rows: docs } = await client.query<{ id: string }>(
    `SELECT id FROM invoices i WHERE ${chunkDocsSql('i')} AND number IS NULL ORDER BY created_at, id`,
    chunkDocsValues(run, chunk),
  );
  if (!docs.length) return;
  const year = parisYear(now);
  const { rows: counted } = await client.query<{ last_number: number; document_code: string; issued_at: Date }>(
    `INSERT INTO document_counters (operator_id, year, last_number) VALUES ($1::text, $2::int, $3::int)
     ON CONFLICT (operator_id, year) DO UPDATE SET last_number = document_counters.last_number + EXCLUDED.last_number
     RETURNING last_number, (SELECT document_code FROM operators WHERE id = $1::text), clock_timestamp() AS issued_at`,
    [run.operatorId, year, docs.length],
  );
  const counter = counted[0];
  if (!counter) throw new Error(`the document counter of ${run.operatorId} for ${year} was not returned`);
  // Waiting on the counter across midnight on New Year's Eve would date a document in the year after its number's:
  // the chunk is given up (its numbers with it) and its retry numbers it in the new year.
  if (parisYear(counter.issued_at) !== year)
    throw new Error(`the documents of ${run.operatorId} were numbered for ${year} but issued in the next year`);
  const first = counter.last_number - docs.length + 1;
  await client.query(
    `UPDATE invoices i SET number = x.number, created_at = $3::timestamptz
     FROM unnest($1::text[], $2::text[]) AS x(id, number) WHERE i.id = x.id`,
    [
      docs.map((d) => d.id),
      docs.map((_, k) => documentNumber(year, counter.document_code, first + k)),
      counter.issued_at,
    ],
  );
}
