import { lineVat, type InvoiceWithLines, type Reconciliation } from '../../domain/billing-invoices.js';
import { formatAmount } from '../../domain/money.js';
import { vatBreakdown, vatRateString } from '../../domain/vat.js';
import type { InvoiceItemRecord, InvoiceRecord } from '../../store/billing-invoices.js';
import type { BillingRunRecord } from '../../store/billing-run-records.js';

export function billingRunResource(run: BillingRunRecord) {
  return {
    id: run.id,
    object: 'billing_run',
    through: run.through.toISOString(),
    status: run.status,
    invoiceCount: run.invoiceCount,
    total: formatAmount(run.total),
    error: run.error,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

function lineResource(line: InvoiceItemRecord) {
  const vat = formatAmount(lineVat(line));
  return {
    id: line.id,
    publisherId: line.publisherId,
    description: line.description,
    amount: formatAmount(line.amount),
    vatRate: vatRateString(line.vatRate),
    vat,
    vatAmount: vat,
    purchaseId: line.purchaseId,
    refundId: line.refundId,
  };
}

export function invoiceResource(invoice: InvoiceWithLines) {
  const vatTotal = formatAmount(invoice.vatAmount);
  return {
    id: invoice.id,
    object: 'invoice',
    number: invoice.number,
    type: invoice.type,
    correctsInvoiceId: invoice.correctsInvoiceId,
    billingRunId: invoice.billingRunId,
    subscriberRef: invoice.subscriberRef,
    status: invoice.status,
    total: formatAmount(invoice.total),
    vatTotal,
    vatAmount: vatTotal,
    vatBreakdown: vatBreakdown(invoice.lines.map((line) => ({ ...line, vat: lineVat(line) }))).map((e) => ({
      rate: e.rate,
      base: formatAmount(e.base),
      vat: formatAmount(e.vat),
    })),
    collected: invoice.collected === null ? null : formatAmount(invoice.collected),
    createdAt: invoice.createdAt.toISOString(),
    outcomeAt: invoice.outcomeAt?.toISOString() ?? null,
    lines: invoice.lines.map(lineResource),
  };
}

/** The invoices CSV's columns, in order (docs/operators.md): each value spelled as in the JSON. */
export const INVOICE_CSV_COLUMNS = [
  'number',
  'invoiceId',
  'type',
  'correctsInvoiceId',
  'billingRunId',
  'subscriberRef',
  'status',
  'lineId',
  'publisherId',
  'purchaseId',
  'refundId',
  'description',
  'amount',
  'vat',
  'vatRate',
] as const;

type InvoiceLineRow = Record<(typeof INVOICE_CSV_COLUMNS)[number], string | null>;

/** Every line of the documents, one row each, spelled from the document's JSON so the two never differ. */
export async function* invoiceCsvRows(documents: AsyncIterable<InvoiceWithLines>): AsyncGenerator<InvoiceLineRow> {
  for await (const invoice of documents) {
    const document = invoiceResource(invoice);
    for (const line of document.lines) {
      yield {
        number: document.number,
        invoiceId: document.id,
        type: document.type,
        correctsInvoiceId: document.correctsInvoiceId,
        billingRunId: document.billingRunId,
        subscriberRef: document.subscriberRef,
        status: document.status,
        lineId: line.id,
        publisherId: line.publisherId,
        purchaseId: line.purchaseId,
        refundId: line.refundId,
        description: line.description,
        amount: line.amount,
        vat: line.vat,
        vatRate: line.vatRate,
      };
    }
  }
}

export function reconciliationResource(billingRunId: string, r: Reconciliation) {
  return {
    billingRunId,
    billed: formatAmount(r.billed),
    collected: formatAmount(r.collected),
    uncollected: formatAmount(r.uncollected),
    outstanding: formatAmount(r.outstanding),
    credited: formatAmount(r.credited),
    remitted: formatAmount(r.remitted),
    remittanceDifference: formatAmount(r.collected.minus(r.remitted)),
    invoices: r.invoices,
  };
}

/** The reconciliation CSV's columns, in order: one row per document of the run. */
export const RECONCILIATION_CSV_COLUMNS = [
  'invoiceId',
  'type',
  'subscriberRef',
  'total',
  'vatTotal',
  'status',
  'collected',
] as const;

type ReconciliationCsvRow = Record<(typeof RECONCILIATION_CSV_COLUMNS)[number], string>;

export async function* reconciliationCsvRows(
  documents: AsyncIterable<InvoiceRecord>,
): AsyncGenerator<ReconciliationCsvRow> {
  for await (const i of documents) {
    yield {
      invoiceId: i.id,
      type: i.type,
      subscriberRef: i.subscriberRef,
      total: i.total.toFixed(2),
      vatTotal: i.vatAmount.toFixed(2),
      status: i.status,
      collected: i.collected === null ? '' : i.collected.toFixed(2),
    };
  }
}
