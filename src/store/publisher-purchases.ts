import { PURCHASE_COLUMNS, toPurchase } from './purchases.js';
import type { PurchaseStatus } from '../shared/catalogue.js';
import type { PurchaseRecord } from './records.js';
import type { Sql, Statement } from './sql.js';

/*
 * A publisher's purchase listing, on pg for now: its route (src/http/routes/purchases.ts, being rewritten under
 * issue 22) still hands the domain a Sql rather than the Database. Once it hands the Database, this listing
 * joins the others in listings.ts, on Prisma's typed client, with the same status filter (shownAs there).
 */

type Shown = 'any' | 'pending' | 'expired' | 'stored';

function shown(status: PurchaseStatus | null): Shown {
  if (status === null) return 'any';
  return status === 'pending' || status === 'expired' ? status : 'stored';
}

/**
 * One prepared statement per kind of status filter, so each keeps a plan that walks the (publisher_id, id)
 * index. $1 publisher, $2 cursor, $3 limit, $4 now or the stored status.
 */
const head = `SELECT ${PURCHASE_COLUMNS} FROM purchases p
  WHERE p.publisher_id = $1::text AND ($2::text IS NULL OR p.id < $2::text)`;
const tail = `ORDER BY p.id DESC LIMIT $3::int`;
const LISTINGS: Record<Shown, Statement> = {
  any: { name: 'list_publisher_purchases_any', text: `${head} ${tail}` },
  pending: {
    name: 'list_publisher_purchases_pending',
    text: `${head} AND p.status = 'pending' AND p.expires_at > $4::timestamptz ${tail}`,
  },
  expired: {
    name: 'list_publisher_purchases_expired',
    text: `${head} AND (p.status = 'expired' OR (p.status = 'pending' AND p.expires_at <= $4::timestamptz)) ${tail}`,
  },
  stored: { name: 'list_publisher_purchases_stored', text: `${head} AND p.status = $4::text ${tail}` },
};

/**
 * Up to `take` of a publisher's purchases with ids below `before`, newest first (ids are time-ordered); a
 * pending purchase past its expiry (at `now`) lists as expired.
 */
export async function publisherPurchases(
  sql: Sql,
  publisherId: string,
  query: { take: number; before: string | null; status: PurchaseStatus | null; now: Date },
): Promise<PurchaseRecord[]> {
  const kind = shown(query.status);
  const values: unknown[] = [publisherId, query.before, query.take];
  if (kind !== 'any') values.push(kind === 'stored' ? query.status : query.now);
  const rows = await sql.rows<Parameters<typeof toPurchase>[0]>(LISTINGS[kind], values);
  return rows.map(toPurchase);
}
