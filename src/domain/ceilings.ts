import { Decimal } from '../shared/money.js';
import type { DeclineCode } from './errors.js';

export interface Limits {
  perPurchase: Decimal;
  weekly: Decimal;
  monthly: Decimal;
}

export interface HouseholdControls {
  blocked: boolean;
  blockedCategories: readonly string[];
  weekly: Decimal | null;
  monthly: Decimal | null;
}

/** Limits in force: the operator's, lowered (never raised) by a holder's controls on a child. */
export function limitsInForce(operator: Limits, controls: HouseholdControls | null): Limits {
  if (!controls) return operator;
  return {
    perPurchase: operator.perPurchase,
    weekly: controls.weekly ? Decimal.min(operator.weekly, controls.weekly) : operator.weekly,
    monthly: controls.monthly ? Decimal.min(operator.monthly, controls.monthly) : operator.monthly,
  };
}

export interface AuthorizationInput {
  amount: Decimal;
  category: string;
  publisherSuspended: boolean;
  limits: Limits;
  controls: HouseholdControls | null;
  /** Confirmed and not refunded in the current ISO week and calendar month. */
  spentThisWeek: Decimal;
  spentThisMonth: Decimal;
}

/**
 * The authorization decision, in the order a subscriber would want to hear it:
 * who may not sell, who may not buy, then how much.
 */
export function authorize(input: AuthorizationInput): DeclineCode | null {
  if (input.publisherSuspended) return 'publisher_suspended';
  if (input.controls?.blocked) return 'account_blocked';
  if (input.controls?.blockedCategories.includes(input.category)) return 'category_blocked';
  if (input.amount.gt(input.limits.perPurchase)) return 'per_purchase_limit';
  if (input.spentThisWeek.plus(input.amount).gt(input.limits.weekly)) return 'weekly_ceiling';
  if (input.spentThisMonth.plus(input.amount).gt(input.limits.monthly)) return 'monthly_ceiling';
  return null;
}

export interface BudgetWindow {
  limit: Decimal;
  spent: Decimal;
  remaining: Decimal;
}

export interface Budget {
  perPurchase: Decimal;
  weekly: BudgetWindow;
  monthly: BudgetWindow;
}

function window(limit: Decimal, spent: Decimal): BudgetWindow {
  return { limit, spent, remaining: Decimal.max(0, limit.minus(spent)) };
}

export function budget(limits: Limits, spentThisWeek: Decimal, spentThisMonth: Decimal): Budget {
  return {
    perPurchase: limits.perPurchase,
    weekly: window(limits.weekly, spentThisWeek),
    monthly: window(limits.monthly, spentThisMonth),
  };
}
