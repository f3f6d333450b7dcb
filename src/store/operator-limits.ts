import { money, type OperatorLimitsRecord } from './records.js';

/**
 * The operator columns every read of a subscriber with its operator's limits
 * selects (the operator joined as `o`), and their row type: one list for the
 * confirmation's locking statement and the subscriber's pages alike.
 */
export const OPERATOR_LIMIT_COLUMNS = `o.name AS "operatorName", o.brand AS "operatorBrand",
  o.limit_per_purchase::text AS "operatorPerPurchase", o.limit_weekly::text AS "operatorWeekly",
  o.limit_monthly::text AS "operatorMonthly", o.sandbox AS "operatorSandbox",
  o.webhook_url IS NOT NULL AS "operatorNotified", o.points_enabled AS "operatorPointsEnabled",
  o.point_value::text AS "operatorPointValue"`;

export interface OperatorLimitColumns {
  operatorName: string;
  operatorBrand: string;
  operatorPerPurchase: string;
  operatorWeekly: string;
  operatorMonthly: string;
  operatorSandbox: boolean;
  operatorNotified: boolean;
  operatorPointsEnabled: boolean;
  operatorPointValue: string;
}

export function toOperatorLimits(operatorId: string, row: OperatorLimitColumns): OperatorLimitsRecord {
  return {
    id: operatorId,
    name: row.operatorName,
    brand: row.operatorBrand,
    limitPerPurchase: money(row.operatorPerPurchase),
    limitWeekly: money(row.operatorWeekly),
    limitMonthly: money(row.operatorMonthly),
    sandbox: row.operatorSandbox,
    notified: row.operatorNotified,
    pointsEnabled: row.operatorPointsEnabled,
    pointValue: money(row.operatorPointValue),
  };
}
