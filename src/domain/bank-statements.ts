import { electronicFormatIBAN } from 'ibantools';
import type { KiosqueAccount } from '../config.js';
import { newId } from '../ids.js';
import {
  findStatement,
  importedStatement,
  insertStatement,
  liveBillingRuns,
  type StatementSummary,
} from '../store/bank-statements.js';
import { postEntry } from '../store/ledger.js';
import { insertPayoutTransition, lockPayouts, type PayoutWithStatus } from '../store/payouts.js';
import type { Sql } from '../store/sql.js';
import { entryReference, matchEntry, referencedIds, type Match } from './bank-statement-matching.js';
import { parseCamt053 } from './camt053.js';
import { invalidRequest, notFound } from './errors.js';
import { accounts } from '../shared/accounts.js';
import { formatAmount } from './money.js';

interface Booking {
  statementId: string;
  payouts: ReadonlyMap<string, PayoutWithStatus>;
  at: Date;
}

/** The journal and payout rows of one recognised transaction (docs/money.md, "The bank"). */
async function book(sql: Sql, match: Match, booking: Booking, key: string): Promise<void> {
  const { at } = booking;
  if (match.kind === 'remittance') {
    await postEntry(sql, {
      key: `remittance:${key}`,
      kind: 'remittance',
      operatorId: match.operatorId,
      billingRunId: match.billingRunId,
      postings: [
        { account: accounts.bank, amount: match.amount },
        { account: accounts.collected(match.operatorId), amount: match.amount.negated() },
      ],
      at,
    });
    return;
  }
  const payout = booking.payouts.get(match.payoutId) as PayoutWithStatus;
  const paid = async () => {
    await insertPayoutTransition(sql, {
      payoutId: payout.id,
      status: 'paid',
      bankStatementId: booking.statementId,
      at,
    });
    await postEntry(sql, {
      key: `payout_paid:${payout.id}`,
      kind: 'payout_paid',
      publisherId: payout.publisherId,
      postings: [
        { account: accounts.payoutsInTransit, amount: payout.amount },
        { account: accounts.bank, amount: payout.amount.negated() },
      ],
      at,
    });
  };
  if (match.kind === 'payout_paid') return paid();
  // A return whose debit this or an earlier statement did not show: the money left and came back.
  if (payout.status === 'created') await paid();
  await insertPayoutTransition(sql, {
    payoutId: payout.id,
    status: 'returned',
    bankStatementId: booking.statementId,
    at,
  });
  await postEntry(sql, {
    key: `payout_returned:${payout.id}`,
    kind: 'payout_returned',
    publisherId: payout.publisherId,
    postings: [
      { account: accounts.bank, amount: payout.amount },
      { account: accounts.payable(payout.publisherId), amount: payout.amount.negated() },
    ],
    at,
  });
}

/**
 * Imports a camt.053 statement of Kiosque's account in one transaction: each
 * entry recognised is booked (operators' remittances into the bank, payouts
 * paid or returned), the rest listed as unmatched. The same Stmt/Id again
 * answers the first import's summary and books nothing (created: false).
 */
export async function importBankStatement(
  sql: Sql,
  xml: string,
  kiosque: KiosqueAccount,
  now = new Date(),
): Promise<{ created: boolean; summary: StatementSummary }> {
  const statement = parseCamt053(xml);
  if (electronicFormatIBAN(statement.iban) !== kiosque.iban) {
    throw invalidRequest("This is another account's statement", {
      fields: { body: "Acct/Id/IBAN is not Kiosque's account" },
    });
  }
  const earlier = await importedStatement(sql, statement.statementId);
  if (earlier) return { created: false, summary: earlier };

  const { payoutIds, runIds } = referencedIds(statement.entries);
  const payouts = new Map((await lockPayouts(sql, payoutIds)).map((p) => [p.id, p]));
  const lookups = { payouts, runs: await liveBillingRuns(sql, runIds) };
  const booking: Booking = { statementId: newId('bst', now.getTime()), payouts, at: now };
  const statuses = new Map<string, PayoutWithStatus['status']>();
  const summary: StatementSummary = {
    id: booking.statementId,
    entries: statement.entries.length,
    matched: 0,
    unmatched: [],
  };
  for (const entry of statement.entries) {
    const matches = matchEntry(entry, lookups, statuses);
    if (!matches) {
      summary.unmatched.push({
        entryReference: entry.entryReference,
        amount: formatAmount(entry.amount),
        creditDebit: entry.creditDebit,
        reference: entryReference(entry),
      });
      continue;
    }
    summary.matched += 1;
    for (const [i, match] of matches.entries())
      await book(sql, match, booking, `${booking.statementId}:${entry.index}:${i}`);
  }
  await insertStatement(sql, { ref: statement.statementId, summary, createdAt: now });
  return { created: true, summary };
}

export async function bankStatement(sql: Sql, id: string): Promise<StatementSummary> {
  const found = await findStatement(sql, id);
  if (!found) throw notFound('Bank statement');
  return found;
}
