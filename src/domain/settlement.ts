import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../store/db.js';
import { roundHalfEvenCentsSql } from './billing-sql.js';
import { commissionOn } from './commission.js';
import { Decimal, formatAmount } from './money.js';

/** What a publisher is owed for its purchases billed in one run; the parts always add up to gross. */
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
 * One purchase: Kiosque keeps no commission on money it did not collect, so the
 * commission is on amount − refunded − charged back, rounded per purchase.
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

interface SettlementRow {
  publisher_id: string;
  gross: string;
  commission: string;
  refunds: string;
  chargebacks: string;
}

/**
 * A run's settlement per publisher, over the purchases charged on it, as they
 * stand now (refunds and chargebacks recorded since count). Aggregated in SQL
 * with the per-purchase rounding of purchaseSettlement, so a run of a million
 * purchases never comes into memory.
 */
export async function runSettlement(db: Db, billingRunId: string): Promise<{ publisherId: string; settlement: Settlement }[]> {
  const collected = Prisma.sql`(p.amount - p.refunded_amount - p.charged_back_amount)`;
  const commission = roundHalfEvenCentsSql(Prisma.sql`(COALESCE(p.commission_rate, 0) * ${collected})`);
  const rows = await db.$queryRaw<SettlementRow[]>`
    SELECT p.publisher_id,
           sum(l.amount)::text AS gross,
           sum(${commission})::text AS commission,
           sum(p.refunded_amount)::text AS refunds,
           sum(p.charged_back_amount)::text AS chargebacks
    FROM invoices i
    JOIN invoice_lines l ON l.invoice_id = i.id AND l.refund_id IS NULL
    JOIN purchases p ON p.id = l.purchase_id
    WHERE i.billing_run_id = ${billingRunId}
    GROUP BY p.publisher_id
    ORDER BY p.publisher_id`;
  return rows.map((row) => ({
    publisherId: row.publisher_id,
    settlement: settlementFromSums({
      gross: new Decimal(row.gross),
      commission: new Decimal(row.commission),
      refunds: new Decimal(row.refunds),
      chargebacks: new Decimal(row.chargebacks),
    }),
  }));
}
