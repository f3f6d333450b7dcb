import type Decimal from 'decimal.js';
import { money } from './records.js';
import type { Sql, Statement } from './sql.js';

/** A publisher's settlement by one operator's billing run, as frozen when the run was done. */
export interface SettlementRecord {
  billingRunId: string;
  operatorId: string;
  publisherId: string;
  through: Date;
  gross: Decimal;
  commission: Decimal;
  refunds: Decimal;
  chargebacks: Decimal;
  /** Kiosque Points: what the publisher owes for points its sales earned, and is owed for points spent on it. */
  pointsIssuedValue: Decimal;
  pointsRedeemedValue: Decimal;
  net: Decimal;
}

const SETTLEMENT_COLUMNS = `s.billing_run_id AS "billingRunId", s.operator_id AS "operatorId",
  s.publisher_id AS "publisherId", s.through, s.gross::text AS gross, s.commission::text AS commission,
  s.refunds::text AS refunds, s.chargebacks::text AS chargebacks, s.net::text AS net,
  s.points_issued_value::text AS "pointsIssuedValue", s.points_redeemed_value::text AS "pointsRedeemedValue"`;

type SettlementRow = Omit<
  SettlementRecord,
  'gross' | 'commission' | 'refunds' | 'chargebacks' | 'net' | 'pointsIssuedValue' | 'pointsRedeemedValue'
> & {
  pointsIssuedValue: string;
  pointsRedeemedValue: string;
  gross: string;
  commission: string;
  refunds: string;
  chargebacks: string;
  net: string;
};

function toSettlement(row: SettlementRow): SettlementRecord {
  return {
    ...row,
    gross: money(row.gross),
    commission: money(row.commission),
    refunds: money(row.refunds),
    chargebacks: money(row.chargebacks),
    net: money(row.net),
    pointsIssuedValue: money(row.pointsIssuedValue),
    pointsRedeemedValue: money(row.pointsRedeemedValue),
  };
}

const RUN_SETTLEMENTS: Statement = {
  name: 'settlements_of_run',
  text: `SELECT ${SETTLEMENT_COLUMNS} FROM settlements s WHERE s.billing_run_id = $1::text ORDER BY s.publisher_id`,
};

/** One billing run's settlements, by publisher id. */
export async function runSettlements(sql: Sql, billingRunId: string): Promise<SettlementRecord[]> {
  const rows = await sql.rows<SettlementRow>(RUN_SETTLEMENTS, [billingRunId]);
  return rows.map(toSettlement);
}
