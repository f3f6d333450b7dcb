import type { Invoice, InvoiceLine, Subscriber } from '../generated/prisma/client.js';
import type { Db, Tx } from '../store/db.js';
import { postEntry, type Posting } from '../store/ledger.js';
import { onPrisma } from '../store/sql.js';
import { clawBackOnChargeback } from './household-points.js';
import { allocateByLargestRemainder } from './allocation.js';
import { operatorBillingRun } from './billing.js';
import { operatorBillingLockSql } from '../store/billing-runs.js';
import { commissionOn } from './commission.js';
import { invalidRequest, invalidState, notFound } from './errors.js';
import { recordEvent } from './events.js';
import { accounts } from './ledger.js';
import { Decimal, formatAmount } from './money.js';
import { purchasePayload as purchaseResource } from './webhook-payloads.js';
import { vatRateString } from './vat.js';

export const INVOICE_OUTCOMES = ['paid', 'unpaid', 'partially_paid'] as const;
export type InvoiceOutcome = (typeof INVOICE_OUTCOMES)[number];
export type OutcomeInput = { status: 'paid' | 'unpaid' } | { status: 'partially_paid'; collected: Decimal };

type InvoiceWithLines = Invoice & { lines: InvoiceLine[]; subscriber: Pick<Subscriber, 'externalRef'> };

function lineResource(line: InvoiceLine) {
  const vat = formatAmount(line.vatAmount.toString());
  return {
    id: line.id.toString(),
    publisherId: line.publisherId,
    description: line.description,
    amount: formatAmount(line.amount.toString()),
    vatRate: vatRateString(line.vatRate.toString()),
    vat,
    vatAmount: vat,
    purchaseId: line.purchaseId,
    refundId: line.refundId,
  };
}

export function invoiceResource(invoice: InvoiceWithLines) {
  const vatTotal = formatAmount(invoice.vatAmount.toString());
  return {
    id: invoice.id,
    object: 'invoice',
    type: invoice.type,
    correctsInvoiceId: invoice.correctsInvoiceId,
    billingRunId: invoice.billingRunId,
    subscriberRef: invoice.subscriber.externalRef,
    status: invoice.status,
    total: formatAmount(invoice.total.toString()),
    vatTotal,
    vatAmount: vatTotal,
    collected: invoice.collected === null ? null : formatAmount(invoice.collected.toString()),
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
  vat_rate: string;
  vat_amount: string;
  invoice_type: string;
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
             l.publisher_id, l.purchase_id, l.refund_id, l.description, l.amount::text AS amount,
             l.vat_rate::text AS vat_rate, l.vat_amount::text AS vat_amount, i.type AS invoice_type
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

interface OutcomePurchase {
  id: string;
  publisher_id: string;
  amount: string;
  refunded_amount: string;
  charged_back_amount: string;
  billed_remaining: string | null;
  commission_rate: string | null;
  commission_amount: string | null;
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
  purchases: readonly OutcomePurchase[],
  uncollected: Decimal,
  pendingRefunds: ReadonlyMap<string, Decimal>,
  unpaid: boolean,
): PurchaseOutcome[] {
  const weights = purchases.map((p) =>
    Decimal.max(0, new Decimal(p.amount).minus(p.refunded_amount).minus(p.charged_back_amount)),
  );
  const available = weights.reduce((a, w) => a.plus(w), new Decimal(0));
  const chargebacks = allocateByLargestRemainder(Decimal.min(uncollected, available), weights);
  return purchases.map((p, i) => {
    const chargeback = chargebacks[i] as Decimal;
    const absorbedRefunds = unpaid ? (pendingRefunds.get(p.id) ?? new Decimal(0)) : new Decimal(0);
    const before = new Decimal(p.billed_remaining ?? p.amount);
    const billedRemaining = before.minus(chargeback).minus(absorbedRefunds);
    const rate = new Decimal(p.commission_rate ?? 0);
    const commissionBefore = new Decimal(p.commission_amount ?? commissionOn(before, rate));
    const commission = commissionOn(billedRemaining, rate);
    return {
      id: p.id,
      publisherId: p.publisher_id,
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
  tx: Tx,
  operatorId: string,
  invoiceId: string,
  input: OutcomeInput,
  publicUrl: string,
  now = new Date(),
): Promise<InvoiceWithLines> {
  const head = await tx.invoice.findUnique({ where: { id: invoiceId }, select: { operatorId: true } });
  if (!head || head.operatorId !== operatorId) throw notFound('Invoice');
  // Before any row lock: a run's final step takes this exclusive, so an outcome is settled wholly by one run.
  // A chunk crediting refunds of this invoice holds its row FOR SHARE: the row lock below orders the two, so
  // a refund is either credited by the chunk or absorbed by an unpaid outcome, never both.
  await tx.$executeRaw(operatorBillingLockSql(operatorId, 'shared'));
  await tx.$queryRaw`SELECT 1 FROM invoices WHERE id = ${invoiceId} FOR UPDATE`;
  const invoice = await tx.invoice.findUniqueOrThrow({ where: { id: invoiceId }, include: withLines });
  if (invoice.type === 'credit_note') throw invalidState('A credit note takes no outcome', { type: invoice.type });
  const total = new Decimal(invoice.total.toString());
  if (invoice.status === input.status) {
    const same =
      input.status !== 'partially_paid' || new Decimal(invoice.collected?.toString() ?? '0').eq(input.collected);
    if (same) return invoice;
  }
  if (invoice.status !== 'issued') {
    throw invalidState(`This invoice is already recorded as ${invoice.status}`, { status: invoice.status });
  }
  const collected = collectedFor(input, total);
  const unpaid = input.status === 'unpaid';
  const purchases = await tx.$queryRaw<OutcomePurchase[]>`
    SELECT p.id, p.publisher_id, p.amount::text, p.refunded_amount::text, p.charged_back_amount::text,
           p.billed_remaining::text, p.commission_rate::text, p.commission_amount::text
    FROM purchases p
    WHERE p.id IN (SELECT purchase_id FROM invoice_lines WHERE invoice_id = ${invoiceId} AND refund_id IS NULL)
      AND p.invoice_id = ${invoiceId}
    ORDER BY p.id
    FOR UPDATE`;
  const pending = new Map<string, Decimal>();
  if (unpaid) {
    const rows = await tx.$queryRaw<{ purchase_id: string; amount: string }[]>`
      SELECT purchase_id, sum(amount)::text AS amount FROM refunds
      WHERE purchase_id = ANY(${purchases.map((p) => p.id)}) AND invoice_id IS NULL
      GROUP BY purchase_id`;
    for (const r of rows) pending.set(r.purchase_id, new Decimal(r.amount));
  }
  const money = outcomeMoney(purchases, total.minus(collected), pending, unpaid);
  for (const m of money) {
    if (m.chargeback.isZero() && m.absorbedRefunds.isZero()) continue;
    await tx.$executeRaw`
      UPDATE purchases SET charged_back_amount = charged_back_amount + ${m.chargeback.toFixed(2)}::numeric,
        billed_remaining = ${m.billedRemaining.toFixed(2)}::numeric, commission_amount = ${m.commission.toFixed(2)}::numeric
      WHERE id = ${m.id}`;
    if (m.chargeback.gt(0)) await clawBackOnChargeback(onPrisma(tx), m.id, m.chargeback, `outcome-${invoiceId}`, now);
  }
  await postEntry(tx, {
    key: `outcome:${invoiceId}`,
    kind: 'outcome',
    operatorId,
    billingRunId: invoice.billingRunId,
    invoiceId,
    postings: outcomePostings(operatorId, collected, money),
    at: now,
  });
  const charged = money.filter((m) => m.chargeback.gt(0)).map((m) => m.id);
  if (charged.length > 0) {
    const rows = await tx.purchase.findMany({ where: { id: { in: charged } }, orderBy: { id: 'asc' } });
    for (const purchase of rows) {
      await recordEvent(
        tx,
        purchase.publisherId,
        'purchase.charged_back',
        {
          ...purchaseResource(purchase, publicUrl, now),
          chargedBackAmount: formatAmount(purchase.chargedBackAmount.toString()),
          invoiceId,
        },
        now,
      );
    }
  }
  return tx.invoice.update({
    where: { id: invoiceId },
    data: { status: input.status, collected: collected.toFixed(2), outcomeAt: now },
    include: withLines,
  });
}

export interface Reconciliation {
  billed: Decimal;
  collected: Decimal;
  uncollected: Decimal;
  outstanding: Decimal;
  credited: Decimal;
  invoices: { paid: number; partially_paid: number; unpaid: number; open: number };
}

/** Billed against collected for one run, from its documents: billed = collected + uncollected + outstanding. */
export async function runReconciliation(db: Db, billingRunId: string): Promise<Reconciliation> {
  const [row] = await db.$queryRaw<
    {
      billed: string;
      collected: string;
      uncollected: string;
      outstanding: string;
      credited: string;
      paid: number;
      partially_paid: number;
      unpaid: number;
      open: number;
    }[]
  >`
    SELECT COALESCE(sum(total) FILTER (WHERE type = 'invoice'), 0)::text AS billed,
           COALESCE(sum(collected) FILTER (WHERE type = 'invoice' AND status <> 'issued'), 0)::text AS collected,
           COALESCE(sum(total - collected) FILTER (WHERE type = 'invoice' AND status <> 'issued'), 0)::text AS uncollected,
           COALESCE(sum(total) FILTER (WHERE type = 'invoice' AND status = 'issued'), 0)::text AS outstanding,
           COALESCE(sum(total) FILTER (WHERE type = 'credit_note'), 0)::text AS credited,
           count(*) FILTER (WHERE type = 'invoice' AND status = 'paid')::int AS paid,
           count(*) FILTER (WHERE type = 'invoice' AND status = 'partially_paid')::int AS partially_paid,
           count(*) FILTER (WHERE type = 'invoice' AND status = 'unpaid')::int AS unpaid,
           count(*) FILTER (WHERE type = 'invoice' AND status = 'issued')::int AS open
    FROM invoices WHERE billing_run_id = ${billingRunId}`;
  if (!row) throw notFound('Billing run');
  return {
    billed: new Decimal(row.billed),
    collected: new Decimal(row.collected),
    uncollected: new Decimal(row.uncollected),
    outstanding: new Decimal(row.outstanding),
    credited: new Decimal(row.credited),
    invoices: { paid: row.paid, partially_paid: row.partially_paid, unpaid: row.unpaid, open: row.open },
  };
}

export function reconciliationResource(billingRunId: string, r: Reconciliation) {
  return {
    billingRunId,
    billed: formatAmount(r.billed),
    collected: formatAmount(r.collected),
    uncollected: formatAmount(r.uncollected),
    outstanding: formatAmount(r.outstanding),
    credited: formatAmount(r.credited),
    invoices: r.invoices,
  };
}

export type ReconciliationCsvRow = {
  invoiceId: string;
  type: string;
  subscriberRef: string;
  total: string;
  vatTotal: string;
  status: string;
  collected: string;
};

/** One row per document of a run, read by keyset in batches: memory stays at one batch. */
export async function* reconciliationRows(
  db: Db,
  billingRunId: string,
  batchSize = 1000,
): AsyncGenerator<ReconciliationCsvRow> {
  let after = '';
  for (;;) {
    const rows = await db.$queryRaw<ReconciliationCsvRow[]>`
      SELECT i.id AS "invoiceId", i.type, s.external_ref AS "subscriberRef", i.total::text AS total,
             i.vat_amount::text AS "vatTotal", CASE WHEN i.type = 'invoice' AND i.status = 'issued' THEN 'open' ELSE i.status END AS status,
             COALESCE(i.collected::text, '') AS collected
      FROM invoices i JOIN subscribers s ON s.id = i.subscriber_id
      WHERE i.billing_run_id = ${billingRunId} AND i.id > ${after}
      ORDER BY i.id
      LIMIT ${batchSize}`;
    yield* rows;
    const last = rows[rows.length - 1];
    if (!last || rows.length < batchSize) return;
    after = last.invoiceId;
  }
}
