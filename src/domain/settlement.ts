import type { Database } from '../store/database.js';
import { publisherSettlementRecords } from '../store/listings.js';
import { runSettlements, type SettlementRecord } from '../store/settlements.js';
import type { Sql } from '../store/sql.js';
import { commissionOn } from './commission.js';
import { Decimal } from '../shared/money.js';

/**
 * What a publisher was settled in one run; the parts always add up:
 * gross + pointsRedeemedValue = commission + net + refunds + chargebacks + pointsIssuedValue.
 */
export interface Settlement {
  gross: Decimal;
  commission: Decimal;
  refunds: Decimal;
  chargebacks: Decimal;
  /** Kiosque Points: the euro value of the points its sales earned (it owes it), net of those taken back. */
  pointsIssuedValue: Decimal;
  /** Kiosque Points: the euro value of the points spent on it (it is owed it). */
  pointsRedeemedValue: Decimal;
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
 *
 * The billing run settles in SQL (store/billing-settlement.ts); this is the
 * rule written plainly, which the property tests hold that SQL to.
 * @internal
 */
export function purchaseSettlement(purchase: PurchaseMoney): Settlement {
  const collected = purchase.amount.minus(purchase.refunded).minus(purchase.chargedBack);
  const commission = commissionOn(collected, purchase.rate);
  return {
    gross: purchase.amount,
    commission,
    refunds: purchase.refunded,
    chargebacks: purchase.chargedBack,
    pointsIssuedValue: new Decimal(0),
    pointsRedeemedValue: new Decimal(0),
    net: collected.minus(commission),
  };
}

/**
 * Net is what is left of gross once the rounded commissions, refunds and chargebacks are taken: exact by construction.
 * Like purchaseSettlement, the reference the property tests hold the billing run's SQL settlement to.
 * @internal
 */
export function settlementFromSums(
  sums: Omit<Settlement, 'net' | 'pointsIssuedValue' | 'pointsRedeemedValue'> &
    Partial<Pick<Settlement, 'pointsIssuedValue' | 'pointsRedeemedValue'>>,
): Settlement {
  const pointsIssuedValue = sums.pointsIssuedValue ?? new Decimal(0);
  const pointsRedeemedValue = sums.pointsRedeemedValue ?? new Decimal(0);
  return {
    ...sums,
    pointsIssuedValue,
    pointsRedeemedValue,
    net: sums.gross
      .plus(pointsRedeemedValue)
      .minus(sums.commission)
      .minus(sums.refunds)
      .minus(sums.chargebacks)
      .minus(pointsIssuedValue),
  };
}

export interface SettlementRow {
  billingRunId: string;
  operatorId: string;
  publisherId: string;
  through: Date;
  settlement: Settlement;
}

function fromRecord(record: SettlementRecord): SettlementRow {
  const { billingRunId, operatorId, publisherId, through, ...settlement } = record;
  return { billingRunId, operatorId, publisherId, through, settlement };
}

/**
 * A run's settlement per publisher, as frozen when the run was done (the
 * billing run writes it from the journal in its own transaction). A run not
 * done yet has none.
 */
export async function runSettlement(sql: Sql, billingRunId: string): Promise<SettlementRow[]> {
  return (await runSettlements(sql, billingRunId)).map(fromRecord);
}

/**
 * A publisher's settlements across operators, newest first (run ids are time-ordered):
 * its live operators' or its sandbox operators', never both (docs/sandbox.md: sandbox money never mixes with live).
 */
export async function publisherSettlements(
  database: Database,
  publisherId: string,
  sandbox: boolean,
  limit: number,
  cursor: string | undefined,
): Promise<SettlementRow[]> {
  const records = await publisherSettlementRecords(database, publisherId, {
    sandbox,
    take: limit + 1,
    before: cursor ?? null,
  });
  return records.map(fromRecord);
}
