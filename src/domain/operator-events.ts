import type { OperatorEventType } from './events.js';
import { formatAmount } from './money.js';
import { Decimal } from '../shared/money.js';

/** UK premium-rate rules ask for a reminder each time a subscriber's spending in a month passes another 20.00. */
export const SPEND_REMINDER_STEP = new Decimal('20.00');

/** Multiples of `step` (20.00, 40.00, …) that spending passed, or reached, going from `before` to `after`. */
export function crossedThresholds(before: Decimal, after: Decimal, step: Decimal = SPEND_REMINDER_STEP): Decimal[] {
  const crossed: Decimal[] = [];
  const first = before.div(step).floor().plus(1);
  for (let k = first; k.times(step).lte(after); k = k.plus(1)) crossed.push(k.times(step));
  return crossed;
}

/** One charge confirmed for a subscriber: a purchase, a subscription's first period, or a renewal. */
export interface ConfirmedCharge {
  subscriberRef: string;
  purchaseId: string;
  publisherName: string;
  description: string;
  amount: Decimal;
  confirmedAt: Date;
  /** The subscriber's spending this calendar month (amounts less refunds) before and after this charge. */
  monthSpentBefore: Decimal;
  monthSpentAfter: Decimal;
  /** Set for a renewal: the subscription renewed and the end of its new period. */
  renewal?: { subscriptionId: string; plan: string; currentPeriodEnd: Date };
}

export interface OperatorEvent {
  type: OperatorEventType;
  data: Record<string, unknown>;
}

/**
 * The events an operator gets for one confirmed charge: a receipt (for a
 * renewal, the renewal itself is the receipt), then one spend reminder per
 * multiple of 20.00 the month's spending crossed.
 */
export function operatorEventsFor(charge: ConfirmedCharge): OperatorEvent[] {
  const receipt = {
    subscriberRef: charge.subscriberRef,
    purchaseId: charge.purchaseId,
    publisherName: charge.publisherName,
    description: charge.description,
    amount: formatAmount(charge.amount),
    confirmedAt: charge.confirmedAt.toISOString(),
  };
  const events: OperatorEvent[] = [
    charge.renewal
      ? {
          type: 'operator.subscription.renewed',
          data: {
            ...receipt,
            subscriptionId: charge.renewal.subscriptionId,
            plan: charge.renewal.plan,
            currentPeriodEnd: charge.renewal.currentPeriodEnd.toISOString(),
          },
        }
      : { type: 'operator.purchase.confirmed', data: receipt },
  ];
  for (const threshold of crossedThresholds(charge.monthSpentBefore, charge.monthSpentAfter)) {
    events.push({
      type: 'operator.spend.threshold',
      data: {
        subscriberRef: charge.subscriberRef,
        monthSpent: formatAmount(charge.monthSpentAfter),
        threshold: formatAmount(threshold),
      },
    });
  }
  return events;
}
