import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/shared/money.js';
import { crossedThresholds, operatorEventsFor, type ConfirmedCharge } from '../../src/domain/operator-events.js';
import { sandboxDecline, SANDBOX_SCENARIOS } from '../../src/domain/sandbox.js';
import { DECLINE_CODES } from '../../src/shared/codes.js';

const d = (v: string) => new Decimal(v);
const charge = (before: string, after: string, extra: Partial<ConfirmedCharge> = {}): ConfirmedCharge => ({
  subscriberRef: 'alice',
  purchaseId: 'pur_1',
  publisherName: 'La Gazette',
  description: 'Edition du jour',
  amount: d(after).minus(before),
  confirmedAt: new Date('2026-11-10T10:00:00Z'),
  monthSpentBefore: d(before),
  monthSpentAfter: d(after),
  ...extra,
});

describe('spend thresholds', () => {
  it.each([
    ['0.00', '19.99', []],
    ['0.00', '20.00', ['20.00']],
    ['19.99', '20.01', ['20.00']],
    ['20.00', '39.99', []],
    ['15.00', '60.00', ['20.00', '40.00', '60.00']],
    ['40.01', '41.00', []],
  ])(
    'When monthly spending goes from %s to %s, then the multiples of 20.00 crossed are %j',
    (before, after, expected) => {
      expect(crossedThresholds(d(before), d(after)).map((t) => t.toFixed(2))).toEqual(expected);
    },
  );
});

describe('operatorEventsFor', () => {
  it('When a purchase takes the month past 20.00, then the operator gets a receipt and one reminder, amounts as strings', () => {
    const events = operatorEventsFor(charge('15.00', '25.50'));
    expect(events).toEqual([
      {
        type: 'operator.purchase.confirmed',
        data: {
          subscriberRef: 'alice',
          purchaseId: 'pur_1',
          publisherName: 'La Gazette',
          description: 'Edition du jour',
          amount: '10.50',
          confirmedAt: '2026-11-10T10:00:00.000Z',
        },
      },
      { type: 'operator.spend.threshold', data: { subscriberRef: 'alice', monthSpent: '25.50', threshold: '20.00' } },
    ]);
  });

  it('When the charge is a renewal, then the receipt is operator.subscription.renewed with the new period', () => {
    const end = new Date('2026-12-10T10:00:00Z');
    const [event, ...rest] = operatorEventsFor(
      charge('0.00', '5.00', { renewal: { subscriptionId: 'sbn_1', plan: 'monthly', currentPeriodEnd: end } }),
    );
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      type: 'operator.subscription.renewed',
      data: {
        subscriptionId: 'sbn_1',
        plan: 'monthly',
        currentPeriodEnd: end.toISOString(),
        amount: '5.00',
        purchaseId: 'pur_1',
      },
    });
  });
});

describe('sandboxDecline', () => {
  it('When the operator is a sandbox, then each scenario ref declines with its code and other refs pass', () => {
    expect(SANDBOX_SCENARIOS.map((s) => sandboxDecline(s.externalRef, true))).toEqual([...DECLINE_CODES]);
    expect(sandboxDecline('alice', true)).toBeNull();
    expect(sandboxDecline('sandbox_declined_nonsense', true)).toBeNull();
  });

  it('When the operator is live, then a scenario ref is an ordinary subscriber', () => {
    expect(sandboxDecline('sandbox_declined_weekly_ceiling', false)).toBeNull();
  });
});
