import { maskIban } from '../../domain/bank-accounts.js';
import { formatAmount } from '../../domain/money.js';
import type { PayoutRun } from '../../domain/payout-runs.js';
import type { BankAccountRecord } from '../../store/bank-accounts.js';
import type { PayoutWithStatus } from '../../store/payouts.js';

export function bankAccountResource(account: BankAccountRecord) {
  return { iban: maskIban(account.iban), bic: account.bic, holderName: account.holderName };
}

export function payoutRunResource({ run, payouts }: PayoutRun) {
  return {
    id: run.id,
    executionDate: run.executionDate,
    minimum: formatAmount(run.minimum),
    count: run.count,
    total: formatAmount(run.total),
    createdAt: run.createdAt.toISOString(),
    payouts: payouts.map((p) => ({ id: p.id, publisherId: p.publisherId, amount: formatAmount(p.amount) })),
  };
}

export function publisherPayoutResource(payout: PayoutWithStatus) {
  return {
    id: payout.id,
    amount: formatAmount(payout.amount),
    status: payout.status,
    payoutRunId: payout.payoutRunId,
    createdAt: payout.createdAt.toISOString(),
  };
}
