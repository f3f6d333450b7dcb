import { Prisma } from '../generated/prisma/client.js';

/**
 * Kiosque Points in a run's settlement (API.md v1.1): the SQL fragments
 * settleRun (src/store/billing-runs.ts) splices in, kept apart so the run can change shape around them.
 * A publisher's `unsettled:<op>:<pub>:points_issued` account (debit: what it
 * owes for points its sales earned, less those taken back) and
 * `:points_redeemed` (credit: what it is owed for points spent on it) settle
 * with its other movements, and net includes them:
 * gross + pointsRedeemedValue = commission + net + refunds + chargebacks + pointsIssuedValue.
 */

/** Columns of the run's settlement scratch table, read from the postings of the operator's unsettled range. */
export const pointsSettlementColumns = Prisma.sql`
  COALESCE(sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'points_issued'), 0)::numeric(14, 2) AS points_issued,
  COALESCE(-sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'points_redeemed'), 0)::numeric(14, 2) AS points_redeemed`;

export const pointsSettlementColumnTypes = 'points_issued numeric(14, 2), points_redeemed numeric(14, 2)';

/** What the points add to a row's net. */
export const pointsNetSql = Prisma.sql`(points_redeemed - points_issued)`;

/** A row with only points to settle is a row too. */
export const pointsNonZeroSql = Prisma.sql`(points_issued <> 0 OR points_redeemed <> 0)`;

/** The closing postings of the points accounts, for settlements `s` of the run (publisher_id, account, amount). */
export function pointsClosingPostings(operatorId: string, billingRunId: string): Prisma.Sql {
  const account = (kind: string) =>
    Prisma.sql`'unsettled:' || ${operatorId}::text || ':' || s.publisher_id || ':' || ${kind}::text`;
  return Prisma.sql`
    SELECT s.publisher_id, ${account('points_issued')}, -s.points_issued_value FROM settlements s WHERE s.billing_run_id = ${billingRunId}
    UNION ALL SELECT s.publisher_id, ${account('points_redeemed')}, s.points_redeemed_value FROM settlements s WHERE s.billing_run_id = ${billingRunId}`;
}
