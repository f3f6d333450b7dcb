import { describe, expect, it } from 'vitest';
import { authorize, budget, limitsInForce, type AuthorizationInput } from '../../src/domain/ceilings.js';
import { Decimal } from '../../src/shared/money.js';

const d = (v: string) => new Decimal(v);
const operatorLimits = { perPurchase: d('30.00'), weekly: d('60.00'), monthly: d('150.00') };
const base: AuthorizationInput = {
  amount: d('10.00'),
  category: 'press',
  publisherSuspended: false,
  limits: operatorLimits,
  controls: null,
  spentThisWeek: d('0'),
  spentThisMonth: d('0'),
};

describe('authorize', () => {
  it('When everything is within limits, then the charge is authorized', () => {
    expect(authorize(base)).toBeNull();
  });

  it('When the amount reaches a ceiling exactly, then it is still authorized', () => {
    expect(authorize({ ...base, amount: d('30.00'), spentThisWeek: d('30.00') })).toBeNull();
    expect(authorize({ ...base, amount: d('10.00'), spentThisWeek: d('0'), spentThisMonth: d('140.00') })).toBeNull();
  });

  it('When the amount passes a ceiling by one cent, then the matching code is returned', () => {
    expect(authorize({ ...base, amount: d('30.01') })).toBe('per_purchase_limit');
    expect(authorize({ ...base, amount: d('10.01'), spentThisWeek: d('50.00') })).toBe('weekly_ceiling');
    expect(authorize({ ...base, amount: d('10.01'), spentThisMonth: d('140.00') })).toBe('monthly_ceiling');
  });

  it('When several rules fail, then who may not sell comes before who may not buy, before how much', () => {
    const everythingWrong: AuthorizationInput = {
      ...base,
      amount: d('45.00'),
      publisherSuspended: true,
      controls: { blocked: true, blockedCategories: ['press'], weekly: null, monthly: null },
      spentThisWeek: d('60.00'),
    };
    expect(authorize(everythingWrong)).toBe('publisher_suspended');
    expect(authorize({ ...everythingWrong, publisherSuspended: false })).toBe('account_blocked');
    expect(
      authorize({
        ...everythingWrong,
        publisherSuspended: false,
        controls: { ...everythingWrong.controls!, blocked: false },
      }),
    ).toBe('category_blocked');
  });

  it('When a category other than the purchase one is blocked, then the purchase goes through', () => {
    expect(
      authorize({
        ...base,
        controls: { blocked: false, blockedCategories: ['games', 'adult'], weekly: null, monthly: null },
      }),
    ).toBeNull();
  });
});

describe('limitsInForce', () => {
  it('When a holder lowers a child limit, then the lower one applies; a higher one never raises the operator limit', () => {
    const lowered = limitsInForce(operatorLimits, {
      blocked: false,
      blockedCategories: [],
      weekly: d('10.00'),
      monthly: d('500.00'),
    });
    expect(lowered.weekly.toFixed(2)).toBe('10.00');
    expect(lowered.monthly.toFixed(2)).toBe('150.00');
    expect(lowered.perPurchase.toFixed(2)).toBe('30.00');
  });

  it('When there are no controls, then the operator limits apply unchanged', () => {
    expect(limitsInForce(operatorLimits, null)).toBe(operatorLimits);
  });
});

describe('budget', () => {
  it('When spending passes a limit (after the limit was lowered), then remaining is zero, never negative', () => {
    const b = budget({ ...operatorLimits, weekly: d('5.00') }, d('7.50'), d('7.50'));
    const cents = (w: typeof b.weekly) => [w.limit, w.spent, w.remaining].map((v) => v.toFixed(2));
    expect(cents(b.weekly)).toEqual(['5.00', '7.50', '0.00']);
    expect(cents(b.monthly)).toEqual(['150.00', '7.50', '142.50']);
  });
});
