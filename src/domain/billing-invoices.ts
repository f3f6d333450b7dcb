import {
  chargeBackPurchase,
  chargedPurchasesForUpdate,
  invoiceById,
  invoiceItems,
  lockInvoiceForOutcome,
  runInvoices,
  runReconciliationFigures,
  setInvoiceOutcome,
  subscriberInvoices,
  uncreditedRefunds,
  type InvoiceItemRecord,
  type InvoiceRecord,
  type OutcomePurchaseRecord,
  type RunReconciliationRecord,
} from '../store/billing-invoices.js';
import { postEntry, type Posting } from '../store/ledger.js';
import { settleOutcome } from './availability.js';
import { remittedForRun } from '../store/bank-statements.js';
import { findPurchase } from '../store/purchases.js';
import type { Sql } from '../store/sql.js';
import { clawBackOnChargeback } from './household-points.js';
import { allocateByLargestRemainder } from './allocation.js';
import { operatorBillingRun } from './billing.js';
import { commissionOn } from './commission.js';
import { invalidRequest, invalidState, notFound } from './errors.js';
import { recordEvent } from './events.js';
import { accounts } from '../shared/accounts.js';
import { formatAmount } from './money.js';
import { Decimal } from '../shared/money.js';
import { purchasePayload as purchaseResource } from './webhook-payloads.js';
import { vatIncluded } from './vat.js';

export type OutcomeInput = { status: 'paid' | 'unpaid' } | { status: 'partially_paid'; collected: Decimal };

/** A document with its lines, one per purchase charged or refund credited (rebuilt from the stored sums). */
export type InvoiceWithLines = InvoiceRecord & { lines: InvoiceItemRecord[] };

/**
 * A line's VAT as the billing run computed it into the document's total: a
 * charge's is its amount's, half-even; a refund's is what the run credited
 * (its share of its purchase's VAT, so credits never exceed the charge).
 */
export function lineVat(line: InvoiceItemRecord): Decimal {
  return line.creditedVat ?? vatIncluded(line.amount, line.vatRate);
}

async function withLines(runner: Sql, invoices: readonly InvoiceRecord[]): Promise<InvoiceWithLines[]> {
  const ids = invoices.map((i) => i.id);
  const items = await invoiceItems(runner, ids);
  return invoices.map((i) => ({ ...i, lines: items.get(i.id) ?? [] }));
}

async function oneWithLines(runner: Sql, invoice: InvoiceRecord): Promise<InvoiceWithLines> {
  const items = await invoiceItems(runner, [invoice.id]);
  return { ...invoice, lines: items.get(invoice.id) ?? [] };
}

/** One page of a run's invoices in id order; a page holds at most `limit` invoices and their lines. */
export async function listInvoices(
  db: Sql,
  operatorId: string,
  billingRunId: string,
  limit: number,
  cursor: string | undefined,
): Promise<InvoiceWithLines[]> {
  await operatorBillingRun(db, operatorId, billingRunId);
  return withLines(db, await runInvoices(db, billingRunId, cursor ?? '', limit + 1));
}

/** An operator sees only its own documents; anyone else's is not found, not forbidden. */
export async function operatorInvoice(db: Sql, operatorId: string, invoiceId: string): Promise<InvoiceWithLines> {
  const invoice = await invoiceById(db, invoiceId);
  if (!invoice || invoice.operatorId !== operatorId) throw notFound('Invoice');
  return oneWithLines(db, invoice);
}

/** A payer's latest documents with their lines, newest first, for the subscriber's pages. */
export async function invoicesOfSubscriber(db: Sql, subscriberId: string, take: number): Promise<InvoiceWithLines[]> {
  return withLines(db, await subscriberInvoices(db, subscriberId, take));
}

/**
 * A run's documents in id order, read `batchSize` at a time by keyset on the
 * document id: memory stays at one batch whatever the size of the run.
 */
async function* runDocumentBatches(db: Sql, billingRunId: string, batchSize: number): AsyncGenerator<InvoiceRecord[]> {
  let after = '';
  for (;;) {
    const invoices = await runInvoices(db, billingRunId, after, batchSize);
    yield invoices;
    const last = invoices[invoices.length - 1];
    if (!last || invoices.length < batchSize) return;
    after = last.id;
  }
}

/** Every document of a run, without its lines, one batch in memory at a time. */
export async function* runDocuments(db: Sql, billingRunId: string, batchSize = 1000): AsyncGenerator<InvoiceRecord> {
  for await (const batch of runDocumentBatches(db, billingRunId, batchSize)) yield* batch;
}

/** Every document of a run with its lines, one batch in memory at a time. */
export async function* runDocumentsWithLines(
  db: Sql,
  billingRunId: string,
  batchSize = 500,
): AsyncGenerator<InvoiceWithLines> {
  for await (const batch of runDocumentBatches(db, billingRunId, batchSize)) yield* await withLines(db, batch);
}

/** What the operator says was collected on an invoice of `total`; a partial amount must lie strictly between 0 and total. */
export function collectedFor(input: OutcomeInput, total: Decimal): Decimal {
  if (input.status !== 'partially_paid') return input.status === 'paid' ? total : new Decimal(0);
  if (input.collected.lte(0) || input.collected.gte(total)) {
    throw invalidRequest(`collected must be above 0.00 and below the invoice total ${formatAmount(total)}`, {
      fields: { collected: `must be above 0.00 and below ${formatAmount(total)}` },
    });
  }
  return input.collected;
}

export interface PurchaseOutcome {
  id: string;
  publisherId: string;
  chargeback: Decimal;
  /** Refunds not yet credited, posted with an unpaid outcome instead of a later credit note. */
  absorbedRefunds: Decimal;
  billedRemaining: Decimal;
  commission: Decimal;
  commissionTakeback: Decimal;
}

/**
 * The money of an outcome, per purchase: the uncollected amount is charged
 * back in proportion to what each purchase still had billed (amount less
 * refunds and chargebacks), by largest remainder so it adds up to the cent,
 * and never beyond what a purchase still had; the commission follows what is
 * left, half-even per purchase.
 */
export function outcomeMoney(
  purchases: readonly OutcomePurchaseRecord[],
  uncollected: Decimal,
  pendingRefunds: ReadonlyMap<string, Decimal>,
  unpaid: boolean,
): PurchaseOutcome[] {
  const weights = purchases.map((p) => Decimal.max(0, p.amount.minus(p.refundedAmount).minus(p.chargedBackAmount)));
  const available = weights.reduce((a, w) => a.plus(w), new Decimal(0));
  const chargebacks = allocateByLargestRemainder(Decimal.min(uncollected, available), weights);
  return purchases.map((p, i) => {
    const chargeback = chargebacks[i] as Decimal;
    const absorbedRefunds = unpaid ? (pendingRefunds.get(p.id) ?? new Decimal(0)) : new Decimal(0);
    const before = p.billedRemaining ?? p.amount;
    const billedRemaining = before.minus(chargeback).minus(absorbedRefunds);
    const rate = p.commissionRate ?? new Decimal(0);
    const commissionBefore = p.commissionAmount ?? commissionOn(before, rate);
    const commission = commissionOn(billedRemaining, rate);
    return {
      id: p.id,
      publisherId: p.publisherId,
      chargeback,
      absorbedRefunds,
      billedRemaining,
      commission,
      commissionTakeback: commissionBefore.minus(commission),
    };
  });
}

/** The journal entry of an outcome: collection, chargebacks, refunds an unpaid bill absorbed, and commission given back. */
export function outcomePostings(operatorId: string, collected: Decimal, money: readonly PurchaseOutcome[]): Posting[] {
  const postings: Posting[] = [
    { account: accounts.collected(operatorId), amount: collected },
    { account: accounts.receivable(operatorId), amount: collected.negated() },
  ];
  for (const m of money) {
    const relieved = m.chargeback.plus(m.absorbedRefunds);
    postings.push(
      { account: accounts.unsettled(operatorId, m.publisherId, 'chargebacks'), amount: m.chargeback },
      { account: accounts.unsettled(operatorId, m.publisherId, 'refunds'), amount: m.absorbedRefunds },
      { account: accounts.receivable(operatorId), amount: relieved.negated() },
      { account: accounts.unsettled(operatorId, m.publisherId, 'commission'), amount: m.commissionTakeback.negated() },
      { account: accounts.commission, amount: m.commissionTakeback },
    );
  }
  return postings;
}

/**
 * Records what the subscriber did with the bill, its money and its journal
 * entry in the caller's transaction. Unpaid or partially paid charges the
 * uncollected part back against the publishers. An outcome is final: the same
 * again is a no-op, another one is refused, and credit notes take none.
 */
export async function recordInvoiceOutcome(
  sql: Sql,
  operatorId: string,
  invoiceId: string,
  input: OutcomeInput,
  publicUrl: string,
  now = new Date(),
): Promise<InvoiceWithLines> {
  const head = await invoiceById(sql, invoiceId);
  if (!head || head.operatorId !== operatorId) throw notFound('Invoice');
  // The operator's billing lock shared, then the invoice's row: see lockInvoiceForOutcome for why, in that order.
  const invoice = await lockInvoiceForOutcome(sql, operatorId, invoiceId);
  if (!invoice) throw notFound('Invoice');
  if (invoice.type === 'credit_note') throw invalidState('A credit note takes no outcome', { type: invoice.type });
  const total = invoice.total;
  if (invoice.status === input.status) {
    const same = input.status !== 'partially_paid' || (invoice.collected ?? new Decimal(0)).eq(input.collected);
    if (same) return oneWithLines(sql, invoice);
  }
  if (invoice.status !== 'issued') {
    throw invalidState(`This invoice is already recorded as ${invoice.status}`, { status: invoice.status });
  }
  const collected = collectedFor(input, total);
  const unpaid = input.status === 'unpaid';
  const purchases = await chargedPurchasesForUpdate(sql, invoiceId);
  const ids = purchases.map((p) => p.id);
  const pending = unpaid ? await uncreditedRefunds(sql, ids) : new Map<string, Decimal>();
  const money = outcomeMoney(purchases, total.minus(collected), pending, unpaid);
  for (const m of money) {
    if (m.chargeback.isZero() && m.absorbedRefunds.isZero()) continue;
    await chargeBackPurchase(sql, m.id, m);
    if (m.chargeback.gt(0)) await clawBackOnChargeback(sql, m.id, m.chargeback, `outcome-${invoiceId}`, now);
  }
  await postEntry(sql, {
    key: `outcome:${invoiceId}`,
    kind: 'outcome',
    operatorId,
    billingRunId: invoice.billingRunId,
    invoiceId,
    postings: outcomePostings(operatorId, collected, money),
    at: now,
  });
  for (const m of money) {
    if (!m.chargeback.gt(0)) continue;
    const purchase = await findPurchase(sql, m.id);
    if (!purchase) continue;
    await recordEvent(
      sql,
      purchase.publisherId,
      'purchase.charged_back',
      { ...purchaseResource(purchase, publicUrl, now), invoiceId },
      now,
    );
  }
  await setInvoiceOutcome(sql, invoiceId, { status: input.status, collected, at: now });
  await settleOutcome(sql, { id: invoiceId, operatorId, billingRunId: invoice.billingRunId }, now);
  return oneWithLines(sql, { ...invoice, status: input.status, collected, outcomeAt: now });
}

/** With what the bank's statements show the operator remitted for the run (docs/money.md). */
export type Reconciliation = RunReconciliationRecord & { remitted: Decimal };

/** Billed against collected for one run, from its documents: billed = collected + uncollected + outstanding. */
export async function runReconciliation(db: Sql, billingRunId: string): Promise<Reconciliation> {
  return { ...(await runReconciliationFigures(db, billingRunId)), remitted: await remittedForRun(db, billingRunId) };
}
