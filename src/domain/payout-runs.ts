import { newId } from '../ids.js';
import {
  findPayoutRun,
  insertPayoutRun,
  lockPayablePublishers,
  type PayablePublisher,
  type PayoutRunRecord,
} from '../store/payout-runs.js';
import type { PayoutRecord } from '../store/payouts.js';
import type { Sql } from '../store/sql.js';
import { notFound } from './errors.js';
import { Decimal } from '../shared/money.js';
import { recordPayout } from './payouts.js';

/** docs/money.md: a run pays publishers whose available is at least this, unless told otherwise. */
export const DEFAULT_PAYOUT_MINIMUM = new Decimal('100.00');

export interface PayoutRun {
  run: PayoutRunRecord;
  payouts: PayoutRecord[];
}

/** Who a run pays and how much: each publisher its whole available, when that is at least the minimum (and above zero). */
function payoutsDue(publishers: readonly PayablePublisher[], minimum: Decimal): PayablePublisher[] {
  return publishers.filter((p) => p.available.gte(minimum) && p.available.gt(0));
}

/**
 * One payout run in one transaction: every publisher that is not suspended and
 * has a bank account is locked (the lock single payouts, settlements and
 * releases take), its available read after the lock, and paid it whole when it
 * reaches the minimum. The creditor's name and IBAN are frozen on each payout,
 * so the pain.001 rendered later is the one that was sent.
 */
export async function createPayoutRun(
  sql: Sql,
  input: { executionDate: string; minimum: Decimal },
  now = new Date(),
): Promise<PayoutRun> {
  const due = payoutsDue(await lockPayablePublishers(sql), input.minimum);
  const run: PayoutRunRecord = {
    id: newId('prun', now.getTime()),
    executionDate: input.executionDate,
    minimum: input.minimum,
    count: due.length,
    total: due.reduce((total, p) => total.plus(p.available), new Decimal(0)),
    createdAt: now,
  };
  await insertPayoutRun(sql, run);
  const payouts: PayoutRecord[] = [];
  for (const p of due) {
    const payout: PayoutRecord = {
      id: newId('po', now.getTime()),
      publisherId: p.publisherId,
      amount: p.available,
      createdAt: now,
      payoutRunId: run.id,
      creditorName: p.holderName,
      creditorIban: p.iban,
    };
    await recordPayout(sql, payout);
    payouts.push(payout);
  }
  return { run, payouts };
}

export async function payoutRun(sql: Sql, id: string): Promise<PayoutRun> {
  const found = await findPayoutRun(sql, id);
  if (!found) throw notFound('Payout run');
  return found;
}
