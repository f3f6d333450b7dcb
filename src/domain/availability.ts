import { invoiceParts, lockPublishers, netCreditNotes, type InvoicePart } from '../store/availability.js';
import { postEntry, type Posting } from '../store/ledger.js';
import type { Sql } from '../store/sql.js';
import { accounts } from '../shared/accounts.js';

/**
 * An outcome's release (docs/money.md): each publisher's pending part of the
 * invoice leaves `pending`; what was collected, net of commission, becomes
 * available; what was charged back is held until the operator's next
 * settlement books it, so it never reaches `available`.
 */
function releasePostings(operatorId: string, parts: readonly InvoicePart[]): Posting[] {
  return parts.flatMap((part) => [
    { account: accounts.pending(part.publisherId), amount: part.pending },
    { account: accounts.payable(part.publisherId), amount: part.givenBack.minus(part.pending) },
    { account: accounts.held(part.publisherId, operatorId), amount: part.givenBack.negated() },
  ]);
}

/**
 * After an outcome's own entry and status, in its transaction: releases the
 * invoice's pending money and nets its credit notes against what the operator
 * collected. Publishers' rows are locked first, as payouts lock them, so a
 * release that lowers `available` never races a payout reading it.
 */
export async function settleOutcome(
  sql: Sql,
  invoice: { id: string; operatorId: string; billingRunId: string },
  now: Date,
): Promise<void> {
  const parts = await invoiceParts(sql, invoice.id);
  if (parts.length > 0) {
    await lockPublishers(
      sql,
      parts.map((p) => p.publisherId),
    );
    await postEntry(sql, {
      key: `release:${invoice.id}`,
      kind: 'release',
      operatorId: invoice.operatorId,
      billingRunId: invoice.billingRunId,
      invoiceId: invoice.id,
      postings: releasePostings(invoice.operatorId, parts),
      at: now,
    });
  }
  await netCreditNotes(sql, { invoiceId: invoice.id }, now);
}
