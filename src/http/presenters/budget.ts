import type { Budget, BudgetWindow } from '../../domain/ceilings.js';

function windowResource(window: BudgetWindow) {
  return { limit: window.limit.toFixed(2), spent: window.spent.toFixed(2), remaining: window.remaining.toFixed(2) };
}

/** GET /v1/me/budget. */
export function budgetResource(budget: Budget) {
  return {
    perPurchase: budget.perPurchase.toFixed(2),
    weekly: windowResource(budget.weekly),
    monthly: windowResource(budget.monthly),
  };
}
