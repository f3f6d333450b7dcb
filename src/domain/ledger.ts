import type { Decimal } from './money.js';
import { accountTotals } from '../store/ledger.js';
import type { Sql } from '../store/sql.js';

/**
 * The chart of accounts (docs/money.md). Every account is in one unit: 'EUR',
 * or 'PTS' for Kiosque Points (src/domain/points.ts names those accounts).
 * Postings are signed: positive debits, negative credits.
 */
export const EUR = 'EUR';

export const UNSETTLED_KINDS = [
  'sales',
  'commission',
  'refunds',
  'chargebacks',
  'points_issued',
  'points_redeemed',
] as const;
export type UnsettledKind = (typeof UNSETTLED_KINDS)[number];

export const accounts = {
  /** What the operator's subscribers owe on Kiosque's invoices, less credit notes, collections and chargebacks. */
  receivable: (operatorId: string) => `operator:${operatorId}:receivable`,
  /** What the operator collected from its subscribers and owes Kiosque. */
  collected: (operatorId: string) => `operator:${operatorId}:collected`,
  /** A publisher's movements with one operator's subscribers since that operator's last settlement. */
  unsettled: (operatorId: string, publisherId: string, kind: UnsettledKind) =>
    `unsettled:${operatorId}:${publisherId}:${kind}`,
  /** What Kiosque owes the publisher and may pay out now: its `available` (docs/money.md). */
  payable: (publisherId: string) => `publisher:${publisherId}:payable`,
  /** Settled sales on invoices whose outcome the operator has not reported yet. */
  pending: (publisherId: string) => `publisher:${publisherId}:pending`,
  /** What an outcome charged back, held until the operator's next settlement books the chargeback. */
  held: (publisherId: string, operatorId: string) => `publisher:${publisherId}:held:${operatorId}`,
  /** What sandbox operators' runs settled for the publisher: test money, never paid out, never in its balance. */
  sandboxPayable: (publisherId: string) => `publisher:${publisherId}:sandbox_payable`,
  commission: 'kiosque:commission',
  /** Kiosque's bank account, as its statements show it: moves only with an imported statement. */
  bank: 'kiosque:bank',
  /** Payouts sent to the bank and not yet on a statement. */
  payoutsInTransit: 'kiosque:payouts_in_transit',
} as const;

/** Range bounds of one operator's unsettled accounts (':' + 1 is ';'), for an index range scan in C collation. */
export function unsettledRange(operatorId: string): { from: string; to: string } {
  return { from: `unsettled:${operatorId}:`, to: `unsettled:${operatorId};` };
}

/** Liabilities and revenue read as credit − debit; assets and expenses as debit − credit. */
export function normalSide(account: string): 'debit' | 'credit' {
  if (account.startsWith('publisher:') || account === accounts.commission || account === accounts.payoutsInTransit)
    return 'credit';
  if (account.startsWith('unsettled:') && (account.endsWith(':sales') || account.endsWith(':points_redeemed')))
    return 'credit';
  if (account.startsWith('points:holder:')) return account.endsWith(':owed') ? 'debit' : 'credit';
  if (account.startsWith('points:operator:')) return account.endsWith(':issued') ? 'debit' : 'credit';
  return 'debit';
}

export interface AccountBalance {
  account: string;
  unit: string;
  debit: Decimal;
  credit: Decimal;
  /** On the account's normal side: what a liability owes, what an asset holds. */
  balance: Decimal;
}

/** Every account's totals and its balance read on its normal side (the admin's view of the journal). */
export async function allBalances(db: Sql): Promise<AccountBalance[]> {
  const totals = await accountTotals(db);
  return totals.map((t) => ({
    ...t,
    balance: normalSide(t.account) === 'debit' ? t.debit.minus(t.credit) : t.credit.minus(t.debit),
  }));
}
