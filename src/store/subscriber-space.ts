import { PURCHASE_COLUMNS, toPurchase } from './purchases.js';
import type { PurchaseRecord, SubscriptionRecord } from './records.js';
import type { Sql, Statement } from './sql.js';
import { SUBSCRIPTION_COLUMNS, toSubscription, type SubscriptionRow } from './subscriptions.js';

/*
 * What the subscriber space lists beside each purchase and subscription: who
 * sold it, and which invoice carries it.
 */

const PURCHASES: Statement = {
  name: 'subscriber_space_purchases',
  text: `SELECT ${PURCHASE_COLUMNS}, pub.name AS "publisherName", i.id AS "invoiceId", i.number AS "invoiceNumber",
      i.created_at AS "invoicedAt", i.status AS "invoiceStatus"
    FROM purchases p
    JOIN publishers pub ON pub.id = p.publisher_id
    LEFT JOIN invoices i ON i.id = p.invoice_id
    WHERE p.subscriber_id = $1::text
    ORDER BY p.id DESC LIMIT $2::int`,
};

/** The invoice that billed a purchase, as the subscriber finds it in their list. */
export interface PurchaseInvoice {
  id: string;
  /** Its legal number; null on a document that has none. */
  number: string | null;
  issuedAt: Date;
  /** issued, paid, unpaid or partially_paid. */
  status: string;
}

export interface SoldPurchase {
  purchase: PurchaseRecord;
  publisherName: string;
  /** Null until it is billed. */
  invoice: PurchaseInvoice | null;
}

/** The LEFT JOIN's columns: all null for a purchase not yet billed. */
type InvoiceColumns = {
  invoiceId: string | null;
  invoiceNumber: string | null;
  invoicedAt: Date | null;
  invoiceStatus: string | null;
};

function invoiceOf(row: InvoiceColumns): PurchaseInvoice | null {
  if (row.invoiceId === null || row.invoicedAt === null || row.invoiceStatus === null) return null;
  return { id: row.invoiceId, number: row.invoiceNumber, issuedAt: row.invoicedAt, status: row.invoiceStatus };
}

/** A subscriber's latest `take` purchases, newest first, with their seller's name and invoice. */
export async function purchasesWithSeller(sql: Sql, subscriberId: string, take: number): Promise<SoldPurchase[]> {
  const rows = await sql.rows<Parameters<typeof toPurchase>[0] & { publisherName: string } & InvoiceColumns>(
    PURCHASES,
    [subscriberId, take],
  );
  return rows.map((row) => ({ purchase: toPurchase(row), publisherName: row.publisherName, invoice: invoiceOf(row) }));
}

const SUBSCRIPTIONS: Statement = {
  name: 'subscriber_space_subscriptions',
  text: `SELECT ${SUBSCRIPTION_COLUMNS}, pub.name AS "publisherName"
    FROM subscriptions sub JOIN publishers pub ON pub.id = sub.publisher_id
    WHERE sub.subscriber_id = $1::text
    ORDER BY sub.id DESC LIMIT $2::int`,
};

/** A subscriber's latest `take` subscriptions, newest first, with their seller's name. */
export async function subscriptionsWithSeller(
  sql: Sql,
  subscriberId: string,
  take: number,
): Promise<{ subscription: SubscriptionRecord; publisherName: string }[]> {
  const rows = await sql.rows<SubscriptionRow & { publisherName: string }>(SUBSCRIPTIONS, [subscriberId, take]);
  return rows.map((row) => ({ subscription: toSubscription(row), publisherName: row.publisherName }));
}

const PUBLISHER_NAMES: Statement = {
  name: 'subscriber_space_publisher_names',
  text: `SELECT id, name FROM publishers WHERE id = ANY($1::text[])`,
};

/** The names of these publishers, by id. */
export async function publisherNames(sql: Sql, publisherIds: readonly string[]): Promise<Map<string, string>> {
  const rows = await sql.rows<{ id: string; name: string }>(PUBLISHER_NAMES, [[...publisherIds]]);
  return new Map(rows.map((row) => [row.id, row.name]));
}

const INVOICE_NUMBERS: Statement = {
  name: 'subscriber_space_invoice_numbers',
  text: `SELECT id, number FROM invoices WHERE id = ANY($1::text[]) AND subscriber_id = $2::text`,
};

/** The numbers of these documents of the subscriber's, by id: what a credit note names as the invoice it corrects. */
export async function invoiceNumbers(
  sql: Sql,
  subscriberId: string,
  invoiceIds: readonly string[],
): Promise<Map<string, string>> {
  if (!invoiceIds.length) return new Map();
  const rows = await sql.rows<{ id: string; number: string }>(INVOICE_NUMBERS, [[...invoiceIds], subscriberId]);
  return new Map(rows.map((row) => [row.id, row.number]));
}
