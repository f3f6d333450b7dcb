import type { Operator } from '../../domain/operators.js';

function operatorLimitsResource(operator: Operator) {
  return {
    perPurchase: operator.limitPerPurchase.toFixed(2),
    weekly: operator.limitWeekly.toFixed(2),
    monthly: operator.limitMonthly.toFixed(2),
  };
}

/** The operator resource of docs/operators.md: its limits and points programme, never its credentials. */
export function operatorResource(operator: Operator) {
  return {
    id: operator.id,
    name: operator.name,
    brand: operator.brand,
    sandbox: operator.sandbox,
    webhookUrl: operator.webhookUrl,
    limits: operatorLimitsResource(operator),
    points: { enabled: operator.pointsEnabled, pointValue: operator.pointValue.toFixed(2) },
    createdAt: operator.createdAt.toISOString(),
  };
}
