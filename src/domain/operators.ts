import { newId } from '../ids.js';
import { insertOperator, type OperatorRecord } from '../store/operators.js';
import type { Database } from '../store/database.js';
import { findOperator, updateOperator, type OperatorChanges } from '../store/profiles.js';
import type { Sql } from '../store/sql.js';
import { insertSubscribers } from '../store/subscribers.js';
import { hashApiKey, newApiKey, newAssertionSecret, newWebhookSecret } from './credentials.js';
import { notFound } from './errors.js';
import { Decimal } from '../shared/money.js';
import { DEFAULT_OPERATOR_LIMITS } from '../shared/money.js';
import { SANDBOX_SCENARIOS } from './sandbox.js';

export type Operator = OperatorRecord;

export interface OperatorLimitsInput {
  perPurchase: Decimal;
  weekly: Decimal;
  monthly: Decimal;
}

const DEFAULT_LIMITS: OperatorLimitsInput = {
  perPurchase: new Decimal(DEFAULT_OPERATOR_LIMITS.perPurchase),
  weekly: new Decimal(DEFAULT_OPERATOR_LIMITS.weekly),
  monthly: new Decimal(DEFAULT_OPERATOR_LIMITS.monthly),
};

export interface NewOperator {
  name: string;
  brand: string;
  limits?: OperatorLimitsInput | undefined;
  sandbox?: boolean | undefined;
  webhookUrl?: string | undefined;
}

/**
 * Registers an operator with its credentials; the API key is returned once and
 * only its hash is kept. A sandbox operator gets its scenario subscribers from
 * the start, so a publisher can try every decline at once.
 */
export async function registerOperator(sql: Sql, input: NewOperator): Promise<{ operator: Operator; apiKey: string }> {
  const apiKey = newApiKey('operator');
  const limits = input.limits ?? DEFAULT_LIMITS;
  const operator = await insertOperator(sql, {
    id: newId('op'),
    name: input.name,
    brand: input.brand,
    apiKeyHash: hashApiKey(apiKey),
    assertionSecret: newAssertionSecret(),
    limits: {
      limitPerPurchase: limits.perPurchase,
      limitWeekly: limits.weekly,
      limitMonthly: limits.monthly,
    },
    sandbox: input.sandbox ?? false,
    webhookUrl: input.webhookUrl ?? null,
    webhookSecret: newWebhookSecret(),
  });
  if (operator.sandbox) {
    await insertSubscribers(
      sql,
      operator.id,
      SANDBOX_SCENARIOS.map((s) => ({ id: newId('sub'), externalRef: s.externalRef })),
    );
  }
  return { operator, apiKey };
}

export interface OperatorPatch {
  limits?: Partial<OperatorLimitsInput> | undefined;
  webhookUrl?: string | null | undefined;
  points?: { enabled: boolean; pointValue?: Decimal | undefined } | undefined;
}

/**
 * Changes an operator's limits, webhook URL or points programme. Ceilings read
 * the operator's row at every confirmation, so new limits are in force from
 * the commit. An operator from before v1.1 has no webhook secret: one is made
 * with its first webhook URL and returned, to be shown once. Of concurrent
 * first changes, only the one whose secret was stored returns it.
 */
export async function changeOperator(
  database: Database,
  id: string,
  patch: OperatorPatch,
): Promise<{ operator: Operator; newSecret: string | null }> {
  const existing = await findOperator(database, id);
  if (!existing) throw notFound('Operator');
  const secret = patch.webhookUrl && existing.webhookSecret === null ? newWebhookSecret() : null;
  const changes: OperatorChanges = {
    ...(patch.limits?.perPurchase ? { limitPerPurchase: patch.limits.perPurchase } : {}),
    ...(patch.limits?.weekly ? { limitWeekly: patch.limits.weekly } : {}),
    ...(patch.limits?.monthly ? { limitMonthly: patch.limits.monthly } : {}),
    ...(patch.webhookUrl !== undefined ? { webhookUrl: patch.webhookUrl } : {}),
    ...(secret ? { webhookSecretIfNone: secret } : {}),
    ...(patch.points
      ? { pointsEnabled: patch.points.enabled, pointValue: patch.points.pointValue ?? existing.pointValue }
      : {}),
  };
  const operator = await updateOperator(database, id, changes);
  if (!operator) throw notFound('Operator');
  return { operator, newSecret: secret !== null && operator.webhookSecret === secret ? secret : null };
}
