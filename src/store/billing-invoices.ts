import type Decimal from 'decimal.js';
import { operatorBillingLockText } from './billing-session.js';
import { money } from './records.js';
import type { Sql, Statement } from './sql.js';

/*
 * Invoices and credit notes as the API shows them. Lines are stored summed per
 * document, publisher, kind and VAT rate, with the ids of the purchases and
 * refunds they sum (migration 20261201000000_aggregated_invoice_lines); the
 * lines read here are rebuilt from those, one per purchase charged or refund
 * credited, with the VAT rate of the stored line that holds it.
 */

export type InvoiceType = 'invoice' | 'credit_note';
export type InvoiceStatus = 'issued' | 'paid' | 'unpaid' | 'partially_paid';

export interface InvoiceRecord {
  id: string;
  type: InvoiceType;
  correctsInvoiceId: string | null;
  billingRunId: string;
  operatorId: string;
  subscriberId: string;
  subscriberRef: string;
  status: InvoiceStatus;
  total: Decimal;
  vatAmount: Decimal;
  collected: Decimal | null;
  createdAt: Date;
  outcomeAt: Date | null;
  /** Its legal number, given in the transaction that issued it (billing-numbering.ts). */
  number: string;
}

/** One purchase charged (refundId null) or one refund credited, on the document `invoiceId`. */
export interface InvoiceItemRecord {
  invoiceId: string;
  /** The refund's id for a credit, else the purchase's: unique within a document. */
  id: string;
  publisherId: string;
  purchaseId: string;
  refundId: string | null;
  description: string;
  amount: Decimal;
  vatRate: Decimal;
  /** The VAT a refund credited (negative), as the run stored it; null for a charge, whose VAT is its amount's. */
  creditedVat: Decimal | null;
}

interface InvoiceRow {
  id: string;
  type: InvoiceType;
  corrects_invoice_id: string | null;
  billing_run_id: string;
  operator_id: string;
  subscriber_id: string;
  subscriber_ref: string;
  status: InvoiceStatus;
  total: string;
  vat_amount: string;
  collected: string | null;
  created_at: Date;
  outcome_at: Date | null;
  number: string;
}

const INVOICE_COLUMNS = `i.id, i.type, i.corrects_invoice_id, i.billing_run_id, i.operator_id, i.subscriber_id,
  s.external_ref AS subscriber_ref, i.status, i.total::text AS total, i.vat_amount::text AS vat_amount,
  i.collected::text AS collected, i.created_at, i.outcome_at, i.number`;

function toInvoice(row: InvoiceRow): InvoiceRecord {
  return {
    id: row.id,
    type: row.type,
    correctsInvoiceId: row.corrects_invoice_id,
    billingRunId: row.billing_run_id,
    operatorId: row.operator_id,
    subscriberId: row.subscriber_id,
    subscriberRef: row.subscriber_ref,
    status: row.status,
    total: money(row.total),
    vatAmount: money(row.vat_amount),
    collected: money(row.collected),
    createdAt: row.created_at,
    outcomeAt: row.outcome_at,
    number: row.number,
  };
}

const INVOICE_BY_ID: Statement = {
  name: 'billing_invoice_by_id',
  text: `SELECT ${INVOICE_COLUMNS} FROM invoices i JOIN subscribers s ON s.id = i.subscriber_id WHERE i.id = $1::text`,
};

export async function invoiceById(runner: Sql, id: string): Promise<InvoiceRecord | null> {
  const [row] = await runner.rows<InvoiceRow>(INVOICE_BY_ID, [id]);
  return row ? toInvoice(row) : null;
}

const RUN_INVOICES: Statement = {
  name: 'billing_run_invoices',
  text: `SELECT ${INVOICE_COLUMNS} FROM invoices i JOIN subscribers s ON s.id = i.subscriber_id
    WHERE i.billing_run_id = $1::text AND i.id > $2::text ORDER BY i.id LIMIT $3::int`,
};

/** A run's documents in id order, after `afterId` ('' for the first). */
export async function runInvoices(
  runner: Sql,
  billingRunId: string,
  afterId: string,
  take: number,
): Promise<InvoiceRecord[]> {
  return (await runner.rows<InvoiceRow>(RUN_INVOICES, [billingRunId, afterId, take])).map(toInvoice);
}

const SUBSCRIBER_INVOICES: Statement = {
  name: 'billing_subscriber_invoices',
  text: `SELECT ${INVOICE_COLUMNS} FROM invoices i JOIN subscribers s ON s.id = i.subscriber_id
    WHERE i.subscriber_id = $1::text ORDER BY i.created_at DESC LIMIT $2::int`,
};

/** A payer's latest documents, newest first. */
export async function subscriberInvoices(runner: Sql, subscriberId: string, take: number): Promise<InvoiceRecord[]> {
  return (await runner.rows<InvoiceRow>(SUBSCRIBER_INVOICES, [subscriberId, take])).map(toInvoice);
}

interface ItemRow {
  invoice_id: string;
  publisher_id: string;
  purchase_id: string;
  refund_id: string | null;
  description: string;
  amount: string;
  vat_rate: string;
  credited_vat: string | null;
}

/**
 * Each stored line's items, each taken only where its own invoice_id names the
 * line's document: the claim that wrote the line set it, and it never changes.
 * Charges come first, then credits, each in id order.
 */
const ITEMS: Statement = {
  name: 'billing_invoice_items',
  text: `SELECT l.invoice_id, l.publisher_id, x.purchase_id, x.refund_id,
      CASE WHEN x.refund_id IS NULL THEN p.description ELSE 'Refund: ' || p.description END AS description,
      (CASE WHEN x.refund_id IS NULL THEN p.amount ELSE -r.amount END)::text AS amount, l.vat_rate::text AS vat_rate,
      (-r.vat_amount)::text AS credited_vat
    FROM invoice_lines l
    CROSS JOIN LATERAL unnest(l.purchase_ids, l.refund_ids) AS x(purchase_id, refund_id)
    JOIN purchases p ON p.id = x.purchase_id
    LEFT JOIN refunds r ON r.id = x.refund_id AND r.purchase_id = p.id
    WHERE l.invoice_id = ANY($1::text[])
      AND CASE WHEN x.refund_id IS NULL THEN p.invoice_id ELSE r.invoice_id END = l.invoice_id
    ORDER BY l.invoice_id, x.refund_id IS NOT NULL, COALESCE(x.refund_id, x.purchase_id)`,
};

/** The items of these documents, grouped by document id (every id present, with no items if it has none). */
export async function invoiceItems(
  runner: Sql,
  invoiceIds: readonly string[],
): Promise<Map<string, InvoiceItemRecord[]>> {
  const byInvoice = new Map<string, InvoiceItemRecord[]>(invoiceIds.map((id) => [id, []]));
  if (invoiceIds.length === 0) return byInvoice;
  const rows = await runner.rows<ItemRow>(ITEMS, [[...invoiceIds]]);
  for (const row of rows) {
    byInvoice.get(row.invoice_id)?.push({
      invoiceId: row.invoice_id,
      id: row.refund_id ?? row.purchase_id,
      publisherId: row.publisher_id,
      purchaseId: row.purchase_id,
      refundId: row.refund_id,
      description: row.description,
      amount: money(row.amount),
      vatRate: money(row.vat_rate),
      creditedVat: money(row.credited_vat),
    });
  }
  return byInvoice;
}

export interface OutcomePurchaseRecord {
  id: string;
  publisherId: string;
  amount: Decimal;
  refundedAmount: Decimal;
  chargedBackAmount: Decimal;
  billedRemaining: Decimal | null;
  commissionRate: Decimal | null;
  commissionAmount: Decimal | null;
}

const CHARGED_FOR_UPDATE: Statement = {
  name: 'billing_invoice_charged_for_update',
  text: `SELECT p.id, p.publisher_id, p.amount::text AS amount, p.refunded_amount::text AS refunded_amount,
      p.charged_back_amount::text AS charged_back_amount, p.billed_remaining::text AS billed_remaining,
      p.commission_rate::text AS commission_rate, p.commission_amount::text AS commission_amount
    FROM purchases p
    WHERE p.id IN (SELECT unnest(l.purchase_ids) FROM invoice_lines l
                   WHERE l.invoice_id = $1::text AND l.kind = 'charge')
      AND p.invoice_id = $1::text
    ORDER BY p.id
    FOR UPDATE`,
};

/** The purchases an invoice charges, locked in id order for its outcome. */
export async function chargedPurchasesForUpdate(runner: Sql, invoiceId: string): Promise<OutcomePurchaseRecord[]> {
  const rows = await runner.rows<{
    id: string;
    publisher_id: string;
    amount: string;
    refunded_amount: string;
    charged_back_amount: string;
    billed_remaining: string | null;
    commission_rate: string | null;
    commission_amount: string | null;
  }>(CHARGED_FOR_UPDATE, [invoiceId]);
  return rows.map((r) => ({
    id: r.id,
    publisherId: r.publisher_id,
    amount: money(r.amount),
    refundedAmount: money(r.refunded_amount),
    chargedBackAmount: money(r.charged_back_amount),
    billedRemaining: money(r.billed_remaining),
    commissionRate: money(r.commission_rate),
    commissionAmount: money(r.commission_amount),
  }));
}

const OPERATOR_LOCK_SHARED: Statement = {
  name: 'billing_operator_lock_shared',
  text: `SELECT 1 FROM (SELECT ${operatorBillingLockText('shared', '$1::text')}) AS locked`,
};

const LOCK_INVOICE: Statement = {
  name: 'billing_invoice_lock',
  text: `SELECT 1 FROM invoices WHERE id = $1::text FOR UPDATE`,
};

/**
 * An outcome's locks, in this order: the operator's billing lock shared (a
 * run's final step takes it exclusive, so an outcome is settled wholly by one
 * run), then the invoice's row (a chunk crediting its refunds holds it FOR
 * SHARE, so a refund is either credited by the chunk or absorbed by an unpaid
 * outcome, never both). Returns the invoice as it is once both are held.
 */
export async function lockInvoiceForOutcome(
  runner: Sql,
  operatorId: string,
  invoiceId: string,
): Promise<InvoiceRecord | null> {
  const sql = runner;
  await sql.rows(OPERATOR_LOCK_SHARED, [operatorId]);
  await sql.rows(LOCK_INVOICE, [invoiceId]);
  return invoiceById(sql, invoiceId);
}

const PENDING_REFUNDS: Statement = {
  name: 'billing_invoice_pending_refunds',
  text: `SELECT purchase_id, sum(amount)::text AS amount FROM refunds
    WHERE purchase_id = ANY($1::text[]) AND invoice_id IS NULL GROUP BY purchase_id`,
};

/** Per purchase, the refunds no document has credited yet. */
export async function uncreditedRefunds(runner: Sql, purchaseIds: readonly string[]): Promise<Map<string, Decimal>> {
  const rows = await runner.rows<{ purchase_id: string; amount: string }>(PENDING_REFUNDS, [[...purchaseIds]]);
  return new Map(rows.map((r) => [r.purchase_id, money(r.amount)]));
}

const CHARGE_BACK: Statement = {
  name: 'billing_invoice_charge_back',
  text: `UPDATE purchases SET charged_back_amount = charged_back_amount + $2::numeric,
      billed_remaining = $3::numeric, commission_amount = $4::numeric
    WHERE id = $1::text RETURNING id`,
};

/** What an outcome leaves on a purchase: its chargeback added, what stays billed, the commission on it. */
export async function chargeBackPurchase(
  runner: Sql,
  purchaseId: string,
  change: { chargeback: Decimal; billedRemaining: Decimal; commission: Decimal },
): Promise<void> {
  await runner.rows(CHARGE_BACK, [
    purchaseId,
    change.chargeback.toFixed(2),
    change.billedRemaining.toFixed(2),
    change.commission.toFixed(2),
  ]);
}

const SET_OUTCOME: Statement = {
  name: 'billing_invoice_set_outcome',
  text: `UPDATE invoices SET status = $2::text, collected = $3::numeric, outcome_at = $4::timestamptz
    WHERE id = $1::text RETURNING id`,
};

export async function setInvoiceOutcome(
  runner: Sql,
  invoiceId: string,
  outcome: { status: InvoiceStatus; collected: Decimal; at: Date },
): Promise<void> {
  await runner.rows(SET_OUTCOME, [invoiceId, outcome.status, outcome.collected.toFixed(2), outcome.at]);
}

export interface RunReconciliationRecord {
  billed: Decimal;
  collected: Decimal;
  uncollected: Decimal;
  outstanding: Decimal;
  credited: Decimal;
  invoices: { paid: number; partially_paid: number; unpaid: number; open: number };
}

const RECONCILIATION: Statement = {
  name: 'billing_run_reconciliation',
  text: `SELECT COALESCE(sum(total) FILTER (WHERE type = 'invoice'), 0)::text AS billed,
      COALESCE(sum(collected) FILTER (WHERE type = 'invoice' AND status <> 'issued'), 0)::text AS collected,
      COALESCE(sum(total - collected) FILTER (WHERE type = 'invoice' AND status <> 'issued'), 0)::text AS uncollected,
      COALESCE(sum(total) FILTER (WHERE type = 'invoice' AND status = 'issued'), 0)::text AS outstanding,
      COALESCE(sum(total) FILTER (WHERE type = 'credit_note'), 0)::text AS credited,
      count(*) FILTER (WHERE type = 'invoice' AND status = 'paid')::int AS paid,
      count(*) FILTER (WHERE type = 'invoice' AND status = 'partially_paid')::int AS partially_paid,
      count(*) FILTER (WHERE type = 'invoice' AND status = 'unpaid')::int AS unpaid,
      count(*) FILTER (WHERE type = 'invoice' AND status = 'issued')::int AS open
    FROM invoices WHERE billing_run_id = $1::text`,
};

/** Billed against collected for one run, from its documents. */
export async function runReconciliationFigures(runner: Sql, billingRunId: string): Promise<RunReconciliationRecord> {
  const [row] = await runner.rows<{
    billed: string;
    collected: string;
    uncollected: string;
    outstanding: string;
    credited: string;
    paid: number;
    partially_paid: number;
    unpaid: number;
    open: number;
  }>(RECONCILIATION, [billingRunId]);
  if (!row) throw new Error('an aggregate returns one row');
  return {
    billed: money(row.billed),
    collected: money(row.collected),
    uncollected: money(row.uncollected),
    outstanding: money(row.outstanding),
    credited: money(row.credited),
    invoices: { paid: row.paid, partially_paid: row.partially_paid, unpaid: row.unpaid, open: row.open },
  };
}
