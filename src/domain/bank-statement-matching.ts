import type { StatementEntry, StatementTransaction } from './camt053.js';
import { Decimal } from '../shared/money.js';

/** What one transaction of a statement is, once recognised. */
export type Match =
  | { kind: 'payout_paid'; payoutId: string; amount: Decimal }
  | { kind: 'payout_returned'; payoutId: string; amount: Decimal }
  | { kind: 'remittance'; billingRunId: string; operatorId: string; amount: Decimal };

export interface KnownPayout {
  amount: Decimal;
  status: 'created' | 'paid' | 'returned';
}

export interface Lookups {
  payouts: ReadonlyMap<string, KnownPayout>;
  /** Live billing runs by id, with their operator. */
  runs: ReadonlyMap<string, string>;
}

/** Billing run ids (src/domain/billing.ts: newId('brun')) as they appear in remittance information. */
const RUN_ID = /brun_[0-9A-HJKMNP-TV-Z]{26}/g;

function runIdsIn(texts: readonly string[]): string[] {
  return texts.flatMap((t) => t.match(RUN_ID) ?? []);
}

/** Every id a statement's entries could refer to: payouts by EndToEndId, runs by remittance information. */
export function referencedIds(entries: readonly StatementEntry[]): { payoutIds: string[]; runIds: string[] } {
  const txs = entries.flatMap((e) => e.transactions);
  return {
    payoutIds: [...new Set(txs.flatMap((t) => (t.endToEndId ? [t.endToEndId] : [])))],
    runIds: [...new Set(runIdsIn(txs.flatMap((t) => t.unstructured)))],
  };
}

function matchTransaction(
  entry: StatementEntry,
  tx: StatementTransaction,
  lookups: Lookups,
  statuses: Map<string, KnownPayout['status']>,
): Match | null {
  if (!tx.amount) return null;
  const payout = tx.endToEndId ? lookups.payouts.get(tx.endToEndId) : undefined;
  if (payout && tx.endToEndId && payout.amount.eq(tx.amount)) {
    const status = statuses.get(tx.endToEndId) ?? payout.status;
    if (entry.creditDebit === 'DBIT' && !tx.returned && status === 'created')
      return { kind: 'payout_paid', payoutId: tx.endToEndId, amount: tx.amount };
    if (entry.creditDebit === 'CRDT' && tx.returned && status !== 'returned')
      return { kind: 'payout_returned', payoutId: tx.endToEndId, amount: tx.amount };
    return null;
  }
  if (entry.creditDebit !== 'CRDT' || tx.returned) return null;
  const runs = runIdsIn(tx.unstructured).filter((id) => lookups.runs.has(id));
  const [billingRunId] = runs;
  if (!billingRunId || new Set(runs).size !== 1) return null;
  return { kind: 'remittance', billingRunId, operatorId: lookups.runs.get(billingRunId) as string, amount: tx.amount };
}

/**
 * An entry's matches, or null when it is to be listed as unmatched: it must be
 * booked (not pending, not a reversal), in euros, and every one of its
 * transactions recognised; a batch is matched whole or not at all. A payout
 * is paid once and returned once: `statuses` carries what this statement
 * already did, so a repeat within it is unmatched.
 */
export function matchEntry(
  entry: StatementEntry,
  lookups: Lookups,
  statuses: Map<string, KnownPayout['status']>,
): Match[] | null {
  if (!entry.booked || entry.reversal || entry.currency !== 'EUR') return null;
  const matches: Match[] = [];
  for (const tx of entry.transactions) {
    const match = matchTransaction(entry, tx, lookups, statuses);
    if (!match) return null;
    matches.push(match);
  }
  const total = matches.reduce((sum, m) => sum.plus(m.amount), new Decimal(0));
  if (!total.eq(entry.amount)) return null;
  for (const m of matches) {
    if (m.kind === 'payout_paid') statuses.set(m.payoutId, 'paid');
    if (m.kind === 'payout_returned') statuses.set(m.payoutId, 'returned');
  }
  return matches;
}

/** How an unmatched entry is named to the person who will look into it: its EndToEndId, else its Ustrd. */
export function entryReference(entry: StatementEntry): string | null {
  const [first] = entry.transactions;
  return first?.endToEndId ?? (first?.unstructured.join(' ') || null);
}
