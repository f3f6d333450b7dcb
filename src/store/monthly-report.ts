import type { Db } from './db.js';

/** What the report counts for one operator and one publisher over the month. */
export interface ReportCounts {
  operatorId: string;
  publisherId: string;
}
export interface ConfirmedRow extends ReportCounts {
  confirmations: number;
  volume: string;
  /** Confirmations a subscriber made on an offer (one-off purchases and first periods), not renewals. */
  offerConfirmations: number;
}
export interface CodeRow extends ReportCounts {
  code: string;
  count: number;
}
export interface CountRow extends ReportCounts {
  count: number;
}
export interface MonthlyFigures {
  confirmed: ConfirmedRow[];
  declined: CodeRow[];
  disputes: CountRow[];
  pagesShown: CountRow[];
  operators: { id: string; name: string }[];
  publishers: { id: string; name: string }[];
}

/** Records that a consent page was shown; the report's conversion divides confirmations by these. */
export async function recordConsentPageShown(db: Db, operatorId: string, offerId: string): Promise<void> {
  await db.consentPageView.create({ data: { operatorId, offerId } });
}

/**
 * The month's raw figures for every operator and publisher, from [from, to).
 * Reports are read-only and may run on a replica (SCALING.md).
 */
export async function monthlyFigures(db: Db, from: Date, to: Date): Promise<MonthlyFigures> {
  const [confirmed, declined, disputes, pagesShown] = await Promise.all([
    db.$queryRaw<ConfirmedRow[]>`
      SELECT s.operator_id AS "operatorId", p.publisher_id AS "publisherId", count(*)::int AS confirmations,
             sum(p.amount)::text AS volume,
             count(*) FILTER (WHERE p.subscription_id IS NULL
               OR p.subscription_period_start = (SELECT min(f.subscription_period_start) FROM purchases f
                                                 WHERE f.subscription_id = p.subscription_id))::int AS "offerConfirmations"
      FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
      WHERE p.confirmed_at >= ${from} AND p.confirmed_at < ${to}
      GROUP BY 1, 2`,
    db.$queryRaw<CodeRow[]>`
      SELECT s.operator_id AS "operatorId", p.publisher_id AS "publisherId", p.decline_code AS code, count(*)::int AS count
      FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
      WHERE p.status = 'declined' AND p.created_at >= ${from} AND p.created_at < ${to}
      GROUP BY 1, 2, 3`,
    db.$queryRaw<CountRow[]>`
      SELECT s.operator_id AS "operatorId", p.publisher_id AS "publisherId", count(*)::int AS count
      FROM disputes d JOIN purchases p ON p.id = d.purchase_id JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.created_at >= ${from} AND d.created_at < ${to}
      GROUP BY 1, 2`,
    db.$queryRaw<CountRow[]>`
      SELECT v.operator_id AS "operatorId", coalesce(p.publisher_id, sub.publisher_id) AS "publisherId", count(*)::int AS count
      FROM consent_page_views v
      LEFT JOIN purchases p ON p.id = v.offer_id
      LEFT JOIN subscriptions sub ON sub.id = v.offer_id
      WHERE v.shown_at >= ${from} AND v.shown_at < ${to}
      GROUP BY 1, 2`,
  ]);
  const operatorIds = [...new Set([...confirmed, ...declined, ...disputes, ...pagesShown].map((r) => r.operatorId))];
  const publisherIds = [...new Set([...confirmed, ...declined, ...disputes, ...pagesShown].map((r) => r.publisherId))];
  const [operators, publishers] = await Promise.all([
    db.operator.findMany({ where: { id: { in: operatorIds } }, select: { id: true, name: true } }),
    db.publisher.findMany({ where: { id: { in: publisherIds } }, select: { id: true, name: true } }),
  ]);
  return {
    confirmed,
    declined,
    disputes,
    pagesShown: pagesShown.filter((r) => r.publisherId !== null),
    operators,
    publishers,
  };
}
