import type Decimal from 'decimal.js';
import { money } from './records.js';
import type { Sql, Statement } from './sql.js';

/** An operator's spending limits: every subscriber's ceilings, a household's controls only lower them. */
export interface OperatorLimits {
  limitPerPurchase: Decimal;
  limitWeekly: Decimal;
  limitMonthly: Decimal;
}

const FIND_LIMITS: Statement = {
  name: 'operator_find_limits',
  text: `SELECT limit_per_purchase::text AS "limitPerPurchase", limit_weekly::text AS "limitWeekly",
      limit_monthly::text AS "limitMonthly"
    FROM operators WHERE id = $1::text`,
};

export async function findOperatorLimits(sql: Sql, operatorId: string): Promise<OperatorLimits | null> {
  const [row] = await sql.rows<Record<keyof OperatorLimits, string>>(FIND_LIMITS, [operatorId]);
  return row
    ? {
        limitPerPurchase: money(row.limitPerPurchase),
        limitWeekly: money(row.limitWeekly),
        limitMonthly: money(row.limitMonthly),
      }
    : null;
}
