import type { PublisherBalance } from '../../domain/payouts.js';
import type { AccountBalance } from '../../domain/ledger.js';
import { EUR } from '../../shared/accounts.js';
import { formatAmount } from '../../domain/money.js';
import type { Decimal } from '../../shared/money.js';
import type { Settlement, SettlementRow } from '../../domain/settlement.js';
import type { PayoutRecord } from '../../store/payouts.js';

export function payoutResource(payout: PayoutRecord) {
  return {
    id: payout.id,
    object: 'payout',
    publisherId: payout.publisherId,
    amount: formatAmount(payout.amount),
    createdAt: payout.createdAt.toISOString(),
  };
}

export function balanceResource(b: PublisherBalance) {
  return {
    pending: formatAmount(b.pending),
    available: formatAmount(b.available),
    settled: formatAmount(b.settled),
    paidOut: formatAmount(b.paidOut),
  };
}

export function accountResource(b: AccountBalance) {
  // Euros with two decimals; Kiosque Points are whole.
  const format = (v: Decimal) => (b.unit === EUR ? formatAmount(v) : v.toFixed(0));
  return {
    account: b.account,
    unit: b.unit,
    debit: format(b.debit),
    credit: format(b.credit),
    balance: format(b.balance),
  };
}

/** A publisher's row of a run's settlement, as the operator's settlement endpoint shows it. */
export function settlementResource(publisherId: string, settlement: Settlement) {
  return {
    publisherId,
    gross: formatAmount(settlement.gross),
    commission: formatAmount(settlement.commission),
    refunds: formatAmount(settlement.refunds),
    chargebacks: formatAmount(settlement.chargebacks),
    pointsIssuedValue: formatAmount(settlement.pointsIssuedValue),
    pointsRedeemedValue: formatAmount(settlement.pointsRedeemedValue),
    net: formatAmount(settlement.net),
  };
}

export function publisherSettlementResource(row: SettlementRow, sandbox: boolean) {
  const { publisherId: _omitted, ...money } = settlementResource(row.publisherId, row.settlement);
  return {
    billingRunId: row.billingRunId,
    operatorId: row.operatorId,
    sandbox,
    through: row.through.toISOString(),
    ...money,
  };
}
