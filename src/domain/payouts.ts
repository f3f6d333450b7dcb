import { newId } from '../ids.js';
import { publisherAccounts } from '../store/availability.js';
import { postEntry } from '../store/ledger.js';
import {
  insertPayout,
  publisherPayouts,
  settledAndPaidOut,
  type PayoutRecord,
  type PayoutWithStatus,
} from '../store/payouts.js';
import { lockPublisher } from '../store/publishers.js';
import type { Sql } from '../store/sql.js';
import { invalidState, notFound } from './errors.js';
import { accounts } from '../shared/accounts.js';
import { formatAmount } from './money.js';
import { Decimal } from '../shared/money.js';

/**
 * What Kiosque may pay a publisher now: its payable account, credit-normal,
 * which holds only money its operators collected (docs/money.md). The caller
 * holds the publisher's row lock when it acts on the answer.
 */
async function availableToPayOut(db: Sql, publisherId: string): Promise<Decimal> {
  return (await publisherAccounts(db, publisherId)).available;
}

/**
 * Writes a payout and its entry: the money leaves the publisher's payable for
 * `kiosque:payouts_in_transit`, where it stays until a bank statement shows
 * the transfer. The caller holds the publisher's row lock and has checked the
 * amount against what is available.
 */
export async function recordPayout(sql: Sql, payout: PayoutRecord): Promise<void> {
  await insertPayout(sql, payout);
  await postEntry(sql, {
    key: `payout:${payout.id}`,
    kind: 'payout',
    publisherId: payout.publisherId,
    postings: [
      { account: accounts.payable(payout.publisherId), amount: payout.amount },
      { account: accounts.payoutsInTransit, amount: payout.amount.negated() },
    ],
    at: payout.createdAt,
  });
}

/**
 * Pays a publisher out of what is available, never more. The publisher's row
 * lock serializes every payout for it, in any gateway process, and whatever
 * lowers `available` (a settlement, an outcome's release) takes the same lock;
 * the balance is read after the lock is granted, from the journal.
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
  const payout: PayoutRecord = {
    id: newId('po', now.getTime()),
    publisherId,
    amount,
    createdAt: now,
    payoutRunId: null,
    creditorName: null,
    creditorIban: null,
  };
  await recordPayout(sql, payout);
  return payout;
}

export interface PublisherBalance {
  pending: Decimal;
  available: Decimal;
  settled: Decimal;
  paidOut: Decimal;
}

/**
 * docs/money.md: settled = pending + available + paidOut, settled being the sum
 * of the publisher's live settlements' net (a sandbox run's is test money) and
 * paidOut its payouts less those the bank returned.
 */
export async function publisherBalance(db: Sql, publisherId: string): Promise<PublisherBalance> {
  const { settled, paidOut } = await settledAndPaidOut(db, publisherId);
  const { pending, available } = await publisherAccounts(db, publisherId);
  return { pending, available, settled, paidOut };
}

/**
 * One page of a publisher's own payouts with what the bank said of each,
 * newest first (ids are time-ordered); one extra row tells whether more follow.
 */
export function listPublisherPayouts(
  sql: Sql,
  publisherId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<PayoutWithStatus[]> {
  return publisherPayouts(sql, publisherId, { take: page.limit + 1, before: page.cursor ?? null });
}
