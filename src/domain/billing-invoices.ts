import type { Invoice, InvoiceLine, Subscriber } from '../generated/prisma/client.js';
import type { Db, Tx } from '../store/db.js';
import { operatorBillingRun } from './billing.js';
import { invalidState, notFound } from './errors.js';
import { recordEvent } from './events.js';
import { formatAmount } from './money.js';
import { purchaseResource } from './resources.js';

export const INVOICE_OUTCOMES = ['paid', 'unpaid'] as const;
export type InvoiceOutcome = (typeof INVOICE_OUTCOMES)[number];

type InvoiceWithLines = Invoice & { lines: InvoiceLine[]; subscriber: Pick<Subscriber, 'externalRef'> };

function lineResource(line: InvoiceLine) {
  return {
    id: line.id.toString(),
    publisherId: line.publisherId,
    description: line.description,
    amount: formatAmount(line.amount.toString()),
    vatAmount: formatAmount(line.vatAmount.toString()),
    purchaseId: line.purchaseId,
    refundId: line.refundId,
  };
}

export function invoiceResource(invoice: InvoiceWithLines) {
  return {
    id: invoice.id,
    object: 'invoice',
    billingRunId: invoice.billingRunId,
    subscriberRef: invoice.subscriber.externalRef,
    status: invoice.status,
    total: formatAmount(invoice.total.toString()),
    vatAmount: formatAmount(invoice.vatAmount.toString()),
    createdAt: invoice.createdAt.toISOString(),
    outcomeAt: invoice.outcomeAt?.toISOString() ?? null,
    lines: invoice.lines.map(lineResource),
  };
}

const withLines = { lines: { orderBy: { id: 'asc' } }, subscriber: { select: { externalRef: true } } } as const;

/** One page of a run's invoices in id order; a page holds at most `limit` invoices and their lines. */
export async function listInvoices(
  db: Db,
  operatorId: string,
  billingRunId: string,
  limit: number,
  cursor: string | undefined,
): Promise<InvoiceWithLines[]> {
  await operatorBillingRun(db, operatorId, billingRunId);
  return db.invoice.findMany({
    where: { billingRunId, ...(cursor ? { id: { gt: cursor } } : {}) },
    orderBy: { id: 'asc' },
    take: limit + 1,
    include: withLines,
  });
}

export interface InvoiceLineRow {
  invoice_id: string;
  subscriber_ref: string;
  invoice_status: string;
  line_id: string;
  publisher_id: string;
  purchase_id: string;
  refund_id: string | null;
  description: string;
  amount: string;
  vat_amount: string;
}

/**
 * Every line of a run, in batches read by keyset (invoice id, line id): memory
 * stays at one batch whatever the size of the run.
 */
export async function* invoiceLineRows(db: Db, billingRunId: string, batchSize = 1000): AsyncGenerator<InvoiceLineRow> {
  let afterInvoice = '';
  let afterLine = '0';
  for (;;) {
    const rows = await db.$queryRaw<InvoiceLineRow[]>`
      SELECT l.invoice_id, s.external_ref AS subscriber_ref, i.status AS invoice_status, l.id::text AS line_id,
             l.publisher_id, l.purchase_id, l.refund_id, l.description, l.amount::text AS amount, l.vat_amount::text AS vat_amount
      FROM invoice_lines l
      JOIN invoices i ON i.id = l.invoice_id
      JOIN subscribers s ON s.id = i.subscriber_id
      WHERE i.billing_run_id = ${billingRunId} AND (l.invoice_id, l.id) > (${afterInvoice}, ${afterLine}::bigint)
      ORDER BY l.invoice_id, l.id
      LIMIT ${batchSize}`;
    yield* rows;
    const last = rows[rows.length - 1];
    if (!last || rows.length < batchSize) return;
    afterInvoice = last.invoice_id;
    afterLine = last.line_id;
  }
}

/**
 * Records what the subscriber did with the bill. Unpaid turns every purchase
 * on it into a chargeback for what was not refunded, against its publisher.
 * Repeating the recorded outcome is a no-op; contradicting it is refused.
 */
export async function recordInvoiceOutcome(
  tx: Tx,
  operatorId: string,
  invoiceId: string,
  outcome: InvoiceOutcome,
  publicUrl: string,
  now = new Date(),
): Promise<InvoiceWithLines> {
  await tx.$queryRaw`SELECT 1 FROM invoices WHERE id = ${invoiceId} FOR UPDATE`;
  const invoice = await tx.invoice.findUnique({ where: { id: invoiceId }, include: withLines });
  if (!invoice || invoice.operatorId !== operatorId) throw notFound('Invoice');
  if (invoice.status === outcome) return invoice;
  if (invoice.status !== 'issued') {
    throw invalidState(`This invoice is already recorded as ${invoice.status}`, { status: invoice.status });
  }
  if (outcome === 'unpaid') {
    // Set-based, and after the row locks, so a refund committed meanwhile is not charged back as well.
    const charged = await tx.$queryRaw<{ id: string }[]>`
      UPDATE purchases SET charged_back_amount = amount - refunded_amount
      WHERE id IN (SELECT purchase_id FROM invoice_lines WHERE invoice_id = ${invoiceId} AND refund_id IS NULL)
        AND invoice_id = ${invoiceId} AND amount - refunded_amount > 0
      RETURNING id`;
    const purchases = await tx.purchase.findMany({ where: { id: { in: charged.map((p) => p.id) } }, orderBy: { id: 'asc' } });
    for (const purchase of purchases) {
      await recordEvent(
        tx,
        purchase.publisherId,
        'purchase.charged_back',
        { ...purchaseResource(purchase, publicUrl, now), chargedBackAmount: formatAmount(purchase.chargedBackAmount.toString()), invoiceId },
        now,
      );
    }
  }
  return tx.invoice.update({ where: { id: invoiceId }, data: { status: outcome, outcomeAt: now }, include: withLines });
}
