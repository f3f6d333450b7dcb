import type { Db } from '../store/db.js';
import { commissionOn } from './commission.js';
import { Decimal, formatAmount } from './money.js';

/** What a publisher was settled in one run; the parts always add up to gross. */
export interface Settlement {
  gross: Decimal;
  commission: Decimal;
  refunds: Decimal;
  chargebacks: Decimal;
  net: Decimal;
}

export interface PurchaseMoney {
  amount: Decimal;
  refunded: Decimal;
  chargedBack: Decimal;
  rate: Decimal;
}

/**
 * One purchase over its whole life: Kiosque keeps no commission on money it did
 * not collect, so the commission is on amount − refunded − charged back,
 * rounded per purchase. The runs that settle its events add up to this.
 */
export function purchaseSettlement(purchase: PurchaseMoney): Settlement {
  const collected = purchase.amount.minus(purchase.refunded).minus(purchase.chargedBack);
  const commission = commissionOn(collected, purchase.rate);
  return {
    gross: purchase.amount,
    commission,
    refunds: purchase.refunded,
    chargebacks: purchase.chargedBack,
    net: collected.minus(commission),
  };
}

/** Net is what is left of gross once the rounded commissions, refunds and chargebacks are taken: exact by construction. */
export function settlementFromSums(sums: Omit<Settlement, 'net'>): Settlement {
  return { ...sums, net: sums.gross.minus(sums.commission).minus(sums.refunds).minus(sums.chargebacks) };
}

export function settlementResource(publisherId: string, settlement: Settlement) {
  return {
    publisherId,
    gross: formatAmount(settlement.gross),
    commission: formatAmount(settlement.commission),
    refunds: formatAmount(settlement.refunds),
    chargebacks: formatAmount(settlement.chargebacks),
    net: formatAmount(settlement.net),
  };
}

export interface SettlementRow {
  billingRunId: string;
  operatorId: string;
  publisherId: string;
  through: Date;
  settlement: Settlement;
}

interface Row {
  billingRunId: string;
  operatorId: string;
  publisherId: string;
  through: Date;
  gross: { toString(): string };
  commission: { toString(): string };
  refunds: { toString(): string };
  chargebacks: { toString(): string };
  net: { toString(): string };
}

function fromRow(row: Row): SettlementRow {
  return {
    billingRunId: row.billingRunId,
    operatorId: row.operatorId,
    publisherId: row.publisherId,
    through: row.through,
    settlement: {
      gross: new Decimal(row.gross.toString()),
      commission: new Decimal(row.commission.toString()),
      refunds: new Decimal(row.refunds.toString()),
      chargebacks: new Decimal(row.chargebacks.toString()),
      net: new Decimal(row.net.toString()),
    },
  };
}

/**
 * A run's settlement per publisher, as frozen when the run was done (the
 * billing run writes it from the journal in its own transaction). A run not
 * done yet has none.
 */
export async function runSettlement(db: Db, billingRunId: string): Promise<SettlementRow[]> {
  const rows = await db.settlement.findMany({ where: { billingRunId }, orderBy: { publisherId: 'asc' } });
  return rows.map(fromRow);
}

/**
 * A publisher's settlements across operators, newest first (run ids are time-ordered):
 * its live operators' or its sandbox operators', never both (API.md: sandbox money never mixes with live).
 */
export async function publisherSettlements(
  db: Db,
  publisherId: string,
  sandbox: boolean,
  limit: number,
  cursor: string | undefined,
): Promise<SettlementRow[]> {
  const rows = await db.settlement.findMany({
    where: {
      publisherId,
      billingRun: { operator: { sandbox } },
      ...(cursor ? { billingRunId: { lt: cursor } } : {}),
    },
    orderBy: { billingRunId: 'desc' },
    take: limit + 1,
  });
  return rows.map(fromRow);
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
