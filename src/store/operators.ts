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

/** An operator as the admin API shows it, with the secrets it is given once at registration. */
export interface OperatorRecord extends OperatorLimits {
  id: string;
  name: string;
  brand: string;
  sandbox: boolean;
  webhookUrl: string | null;
  webhookSecret: string | null;
  assertionSecret: string;
  pointsEnabled: boolean;
  pointValue: Decimal;
  createdAt: Date;
}

const OPERATOR_COLUMNS = `id, name, brand, sandbox, webhook_url AS "webhookUrl", webhook_secret AS "webhookSecret",
  assertion_secret AS "assertionSecret", limit_per_purchase::text AS "limitPerPurchase",
  limit_weekly::text AS "limitWeekly", limit_monthly::text AS "limitMonthly", points_enabled AS "pointsEnabled",
  point_value::text AS "pointValue", created_at AS "createdAt"`;

type DecimalField = keyof OperatorLimits | 'pointValue';
type OperatorRow = Omit<OperatorRecord, DecimalField> & Record<DecimalField, string>;

function toOperator(row: OperatorRow): OperatorRecord {
  return {
    ...row,
    limitPerPurchase: money(row.limitPerPurchase),
    limitWeekly: money(row.limitWeekly),
    limitMonthly: money(row.limitMonthly),
    pointValue: money(row.pointValue),
  };
}

export interface NewOperatorRecord {
  id: string;
  name: string;
  brand: string;
  apiKeyHash: string;
  assertionSecret: string;
  limits: OperatorLimits;
  sandbox: boolean;
  webhookUrl: string | null;
  webhookSecret: string;
}

const INSERT_OPERATOR: Statement = {
  name: 'operator_insert',
  text: `INSERT INTO operators (id, name, brand, api_key_hash, assertion_secret, limit_per_purchase, limit_weekly,
      limit_monthly, sandbox, webhook_url, webhook_secret)
    VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::numeric, $7::numeric, $8::numeric, $9::boolean,
      $10::text, $11::text)
    RETURNING ${OPERATOR_COLUMNS}`,
};

// On pg: it runs in its idempotency key's transaction, beside a sandbox operator's subscribers.
export async function insertOperator(sql: Sql, operator: NewOperatorRecord): Promise<OperatorRecord> {
  const [row] = await sql.rows<OperatorRow>(INSERT_OPERATOR, [
    operator.id,
    operator.name,
    operator.brand,
    operator.apiKeyHash,
    operator.assertionSecret,
    operator.limits.limitPerPurchase.toFixed(2),
    operator.limits.limitWeekly.toFixed(2),
    operator.limits.limitMonthly.toFixed(2),
    operator.sandbox,
    operator.webhookUrl,
    operator.webhookSecret,
  ]);
  if (!row) throw new Error(`Operator ${operator.id} was inserted but not returned`);
  return toOperator(row);
}

const FIND_ASSERTION_SECRET: Statement = {
  name: 'operator_find_assertion_secret',
  text: `SELECT assertion_secret AS "assertionSecret" FROM operators WHERE id = $1::text`,
};

/** The secret an operator's assertions are signed with: on a subscriber's request, so a prepared statement. */
export async function findAssertionSecret(sql: Sql, operatorId: string): Promise<string | null> {
  const [row] = await sql.rows<{ assertionSecret: string }>(FIND_ASSERTION_SECRET, [operatorId]);
  return row?.assertionSecret ?? null;
}

const FIND_BY_API_KEY_HASH: Statement = {
  name: 'operator_find_by_api_key_hash',
  text: `SELECT ${OPERATOR_COLUMNS} FROM operators WHERE api_key_hash = $1::text`,
};

/** The operator behind an API key, by the key's hash (the key itself is never stored). */
export async function findOperatorByApiKeyHash(sql: Sql, apiKeyHash: string): Promise<OperatorRecord | null> {
  const [row] = await sql.rows<OperatorRow>(FIND_BY_API_KEY_HASH, [apiKeyHash]);
  return row ? toOperator(row) : null;
}
