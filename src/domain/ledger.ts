import type { Decimal } from '../shared/money.js';
import { accountTotals } from '../store/ledger.js';
import type { Sql } from '../store/sql.js';
import { normalSide } from '../shared/accounts.js';

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
