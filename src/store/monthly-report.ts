import type { Sql, Statement } from './sql.js';

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

const PAGE_SHOWN: Statement = {
  name: 'consent_page_shown',
  text: 'INSERT INTO consent_page_views (operator_id, offer_id) VALUES ($1::text, $2::text)',
};

/** Records that a consent page was shown; the report's conversion divides confirmations by these. */
export async function recordConsentPageShown(sql: Sql, operatorId: string, offerId: string): Promise<void> {
  await sql.rows(PAGE_SHOWN, [operatorId, offerId]);
}

const CONFIRMED: Statement = {
  name: 'monthly_report_confirmed',
  text: `SELECT s.operator_id AS "operatorId", p.publisher_id AS "publisherId", count(*)::int AS confirmations,
           sum(p.amount)::text AS volume,
           count(*) FILTER (WHERE p.subscription_id IS NULL
             OR p.subscription_period_start = (SELECT min(f.subscription_period_start) FROM purchases f
                                               WHERE f.subscription_id = p.subscription_id))::int AS "offerConfirmations"
    FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
    WHERE p.confirmed_at >= $1::timestamptz AND p.confirmed_at < $2::timestamptz
    GROUP BY 1, 2`,
};

const DECLINED: Statement = {
  name: 'monthly_report_declined',
  text: `SELECT s.operator_id AS "operatorId", p.publisher_id AS "publisherId", p.decline_code AS code,
           count(*)::int AS count
    FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
    WHERE p.status = 'declined' AND p.created_at >= $1::timestamptz AND p.created_at < $2::timestamptz
    GROUP BY 1, 2, 3`,
};

const DISPUTES: Statement = {
  name: 'monthly_report_disputes',
  text: `SELECT s.operator_id AS "operatorId", p.publisher_id AS "publisherId", count(*)::int AS count
    FROM disputes d JOIN purchases p ON p.id = d.purchase_id JOIN subscribers s ON s.id = d.subscriber_id
    WHERE d.created_at >= $1::timestamptz AND d.created_at < $2::timestamptz
    GROUP BY 1, 2`,
};

const PAGES_SHOWN: Statement = {
  name: 'monthly_report_pages_shown',
  text: `SELECT v.operator_id AS "operatorId", coalesce(p.publisher_id, sub.publisher_id) AS "publisherId",
           count(*)::int AS count
    FROM consent_page_views v
    LEFT JOIN purchases p ON p.id = v.offer_id
    LEFT JOIN subscriptions sub ON sub.id = v.offer_id
    WHERE v.shown_at >= $1::timestamptz AND v.shown_at < $2::timestamptz
    GROUP BY 1, 2`,
};

const OPERATOR_NAMES: Statement = {
  name: 'monthly_report_operator_names',
  text: 'SELECT id, name FROM operators WHERE id = ANY($1::text[])',
};

const PUBLISHER_NAMES: Statement = {
  name: 'monthly_report_publisher_names',
  text: 'SELECT id, name FROM publishers WHERE id = ANY($1::text[])',
};

/**
 * The month's raw figures for every operator and publisher, from [from, to).
 * Reports are read-only and may run on a replica (SCALING.md).
 */
export async function monthlyFigures(sql: Sql, from: Date, to: Date): Promise<MonthlyFigures> {
  const [confirmed, declined, disputes, pagesShown] = await Promise.all([
    sql.rows<ConfirmedRow>(CONFIRMED, [from, to]),
    sql.rows<CodeRow>(DECLINED, [from, to]),
    sql.rows<CountRow>(DISPUTES, [from, to]),
    sql.rows<CountRow>(PAGES_SHOWN, [from, to]),
  ]);
  const operatorIds = [...new Set([...confirmed, ...declined, ...disputes, ...pagesShown].map((r) => r.operatorId))];
  const publisherIds = [...new Set([...confirmed, ...declined, ...disputes, ...pagesShown].map((r) => r.publisherId))];
  const [operators, publishers] = await Promise.all([
    sql.rows<{ id: string; name: string }>(OPERATOR_NAMES, [operatorIds]),
    sql.rows<{ id: string; name: string }>(PUBLISHER_NAMES, [publisherIds]),
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
