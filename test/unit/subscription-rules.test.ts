import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { Decimal } from '../../src/shared/money.js';
import { assertPriceTier, renewalStep, type RenewalState } from '../../src/domain/subscriptions.js';

describe('assertPriceTier: API.md price tiers', () => {
  it.each([
    ['weekly', '5.00'],
    ['monthly', '30.00'],
    ['quarterly', '30.00'],
    ['weekly', '0.01'],
  ] as const)('When a %s plan costs %s, then it is allowed', (plan, amount) => {
    expect(() => assertPriceTier(plan, new Decimal(amount))).not.toThrow();
  });

  it.each([
    ['weekly', '5.01'],
    ['monthly', '30.01'],
    ['quarterly', '45.00'],
  ] as const)('When a %s plan costs %s, then it is invalid_request naming amount', (plan, amount) => {
    try {
      assertPriceTier(plan, new Decimal(amount));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('invalid_request');
      expect((error as AppError).details).toHaveProperty('fields.amount');
    }
  });
});

describe('renewalStep: the renewal state machine', () => {
  const dueAt = new Date('2024-02-29T10:00:00+01:00');
  const nextEnd = new Date('2024-03-31T10:00:00+02:00');
  const day = 24 * 3600_000;
  const active: RenewalState = { status: 'active', dueAt, renewalAttempts: 0 };

  it('When a due renewal is paid, then the subscription stays active for the period paid, which ends at the next attempt', () => {
    expect(renewalStep(active, { paid: { start: dueAt, end: nextEnd } })).toEqual({
      status: 'active',
      renewalAttempts: 0,
      currentPeriodStart: dueAt,
      currentPeriodEnd: nextEnd,
      nextAttemptAt: nextEnd,
      event: 'subscription.renewed',
    });
  });

  it('When a renewal is declined, then it becomes past_due, retried a day after it was due, and the publisher hears it once', () => {
    const step = renewalStep(active, { decline: 'weekly_ceiling' });
    expect(step).toEqual({
      status: 'past_due',
      renewalAttempts: 1,
      nextAttemptAt: new Date(dueAt.getTime() + day),
      event: 'subscription.past_due',
    });
  });

  it('When retries keep failing, then they are spaced 1, 3 and 7 days after the due date, silently, then it is canceled', () => {
    const declined = { decline: 'account_blocked' } as const;
    const second = renewalStep({ ...active, status: 'past_due', renewalAttempts: 1 }, declined);
    expect(second).toEqual({
      status: 'past_due',
      renewalAttempts: 2,
      nextAttemptAt: new Date(dueAt.getTime() + 3 * day),
      event: null,
    });
    const third = renewalStep({ ...active, status: 'past_due', renewalAttempts: 2 }, declined);
    expect(third).toEqual({
      status: 'past_due',
      renewalAttempts: 3,
      nextAttemptAt: new Date(dueAt.getTime() + 7 * day),
      event: null,
    });
    const last = renewalStep({ ...active, status: 'past_due', renewalAttempts: 3 }, declined);
    expect(last).toEqual({
      status: 'canceled',
      renewalAttempts: 4,
      nextAttemptAt: null,
      event: 'subscription.canceled',
    });
  });

  it('When a past_due retry is paid, then the subscription is active again and its attempts reset', () => {
    const step = renewalStep(
      { ...active, status: 'past_due', renewalAttempts: 2 },
      { paid: { start: dueAt, end: nextEnd } },
    );
    expect(step).toMatchObject({
      status: 'active',
      renewalAttempts: 0,
      currentPeriodStart: dueAt,
      event: 'subscription.renewed',
    });
  });
});
