import { newId } from '../ids.js';
import { accountBalance, postEntry } from '../store/ledger.js';
import { insertPayout, settledAndPaidOut, type PayoutRecord } from '../store/payouts.js';
import { lockPublisher } from '../store/publishers.js';
import type { Sql } from '../store/sql.js';
import { invalidState, notFound } from './errors.js';
import { accounts } from './ledger.js';
import { Decimal, formatAmount } from './money.js';

/**
 * What Kiosque owes a publisher now: its payable account, credit-normal. The
 * caller holds the publisher's row lock when it acts on the answer.
 */
export async function availableToPayOut(db: Sql, publisherId: string): Promise<Decimal> {
  return (await accountBalance(db, accounts.payable(publisherId))).negated();
}

/**
 * Pays a publisher out of what it is owed, never more. The publisher's row
 * lock serializes every payout for it, in any gateway process, and the billing
 * run's settlement (which can lower the balance) takes the same lock; the
 * balance is read after the lock is granted, from the journal.
 */
export async function createPayout(
  sql: Sql,
  publisherId: string,
  amount: Decimal,
  now = new Date(),
): Promise<PayoutRecord> {
  if (!(await lockPublisher(sql, publisherId))) throw notFound('Publisher');
  const available = await availableToPayOut(sql, publisherId);
  if (amount.gt(available)) {
    throw invalidState(`At most ${formatAmount(Decimal.max(available, 0))} can be paid out`, {
      available: formatAmount(available),
    });
  }
  const payout: PayoutRecord = { id: newId('po', now.getTime()), publisherId, amount, createdAt: now };
  await insertPayout(sql, payout);
  await postEntry(sql, {
    key: `payout:${payout.id}`,
    kind: 'payout',
    publisherId,
    postings: [
      { account: accounts.payable(publisherId), amount },
      { account: accounts.bank, amount: amount.negated() },
    ],
    at: now,
  });
  return payout;
}

export interface PublisherBalance {
  settled: Decimal;
  paidOut: Decimal;
  available: Decimal;
}

/**
 * API.md: available = settled − paidOut, settled being the sum of the publisher's settlements' net:
 * its live operators' only, since a sandbox run's settlement is test money.
 */
export async function publisherBalance(db: Sql, publisherId: string): Promise<PublisherBalance> {
  const { settled, paidOut } = await settledAndPaidOut(db, publisherId);
  return { settled, paidOut, available: settled.minus(paidOut) };
}
