import { html } from 'ghtml';
import type { InvoiceWithLines } from '../../domain/billing-invoices.js';
import { invoiceResource } from '../presenters/billing.js';
import type { Formatter } from './format.js';
import type { Messages } from './messages/fr.js';

export interface InvoiceItem {
  /** Kept for the page's anchors only: a person reads the document's number. */
  id: string;
  number: string;
  type: 'invoice' | 'credit_note';
  /** The number of the invoice a credit note corrects; null for an invoice. */
  correctsNumber: string | null;
  issuedOn: Date;
  total: string;
  vat: string;
  /** One entry per VAT rate on the document, lowest rate first, as the API's vatBreakdown. */
  vatByRate: { rate: string; base: string; vat: string }[];
  status: string;
  lines: { description: string; amount: string }[];
}

/**
 * A document as the subscriber space shows it, with the figures the API
 * answers for it (number, VAT per rate), so the page and the API never differ.
 */
export function invoiceItem(invoice: InvoiceWithLines, numbers: ReadonlyMap<string, string>): InvoiceItem {
  const document = invoiceResource(invoice);
  return {
    id: document.id,
    number: document.number,
    type: invoice.type,
    correctsNumber: invoice.correctsInvoiceId === null ? null : (numbers.get(invoice.correctsInvoiceId) ?? null),
    issuedOn: invoice.createdAt,
    total: document.total,
    vat: document.vatTotal,
    vatByRate: document.vatBreakdown,
    status: document.status,
    lines: document.lines.map((l) => ({ description: l.description, amount: l.amount })),
  };
}

const status = (label: string, code: string) => html`<span class="status status-${code}">${label}</span>`;

function invoiceEntry(m: Messages, f: Formatter, i: InvoiceItem): string {
  const credit = i.type === 'credit_note';
  // A credit note is never paid: it is issued, then given back on a bill or refunded, so it has its own words.
  const statusLabel = (credit ? m.creditNoteStatus : m.invoiceStatus)[i.status] ?? m.unknownStatus;
  return html`<li id="invoice-${i.id}">
<div class="item-head"><h3>${credit ? m.creditNoteNumbered : m.invoiceNumbered}&nbsp;<span class="doc-number">${i.number}</span></h3><span class="amount">${f.money(i.total)}</span></div>
<p class="meta">${credit ? m.creditNoteIssuedOn(f.date(i.issuedOn)) : m.invoiceIssuedOn(f.date(i.issuedOn))} · !${status(statusLabel, i.status)}</p>
!${i.correctsNumber ? html`<p class="meta">${m.creditNoteCorrects}&nbsp;<span class="doc-number">${i.correctsNumber}</span></p>` : ''}
<p class="meta">${m.invoiceVat(f.money(i.vat))}</p>
<ul class="vat-rates">!${i.vatByRate.map(
    (r) => html`<li>${m.vatAtRate(f.percent(r.rate), f.money(r.vat), f.money(r.base))}</li>`,
  )}</ul>
<details><summary>${m.invoiceLines(i.lines.length)}</summary><dl class="lines">!${i.lines.map(
    (l) => html`<dt>${l.description}</dt><dd class="amount">${f.money(l.amount)}</dd>`,
  )}</dl></details>
</li>`;
}

export function invoiceList(m: Messages, f: Formatter, items: InvoiceItem[]): string {
  if (!items.length) return html`<p>${m.noInvoices}</p>`;
  return html`<ul class="items">!${items.map((i) => invoiceEntry(m, f, i))}</ul>`;
}
