import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { Decimal } from '../../src/shared/money.js';
import { CONSENT_TTL_MS } from '../../src/domain/purchases.js';
import { newSubscription, type NewSubscription } from '../../src/domain/subscriptions.js';
import { canSee } from '../../src/domain/subscription-visibility.js';

const now = new Date('2026-11-30T10:00:00.000Z');
const publisher = { id: 'pub_1', suspendedAt: null };
const offer: NewSubscription = {
  plan: 'monthly',
  amount: new Decimal('9.9'),
  description: 'Monthly pass',
  channel: 'sms',
  returnUrl: null,
};

describe('newSubscription: a pending offer built before anything is written', () => {
  it('When a publisher offers a plan, then the offer is pending, nobody’s, and expires with the consent window', () => {
    const record = newSubscription(publisher, offer, now);
    expect(record.id).toMatch(/^sbn_/);
    expect(record).toMatchObject({
      publisherId: 'pub_1',
      subscriberId: null,
      status: 'pending',
      currency: 'EUR',
      renewalAttempts: 0,
      nextAttemptAt: null,
      vatRate: null,
      expiresAt: new Date(now.getTime() + CONSENT_TTL_MS),
    });
    expect(record.amount.toFixed()).toBe('9.9');
    expect(record.amount.toFixed(2)).toBe('9.90');
  });

  it('When the offer names its own VAT rate, then the record keeps it exactly', () => {
    expect(newSubscription(publisher, { ...offer, vatRate: '0.021' }, now).vatRate?.toString()).toBe('0.021');
  });

  it('When the price is above the plan’s tier or the publisher is suspended, then no offer is built', () => {
    expect(() => newSubscription(publisher, { ...offer, amount: new Decimal('30.01') }, now)).toThrow(AppError);
    expect(() => newSubscription({ id: 'pub_1', suspendedAt: now }, offer, now)).toThrow(AppError);
  });
});

describe('canSee: who may read a subscription', () => {
  const pending = { publisherId: 'pub_1', subscriberId: null, status: 'pending' as const };
  it('When the offer is unclaimed and pending, then any subscriber holding the link sees it', () => {
    expect(canSee(pending, { kind: 'subscriber', subscriberId: 'sub_9' })).toBe(true);
    expect(canSee({ ...pending, status: 'expired' }, { kind: 'subscriber', subscriberId: 'sub_9' })).toBe(false);
  });
  it('When it is claimed, then only its subscriber and its publisher see it', () => {
    const active = { publisherId: 'pub_1', subscriberId: 'sub_1', status: 'active' as const };
    expect(canSee(active, { kind: 'subscriber', subscriberId: 'sub_1' })).toBe(true);
    expect(canSee(active, { kind: 'subscriber', subscriberId: 'sub_9' })).toBe(false);
    expect(canSee(active, { kind: 'publisher', publisherId: 'pub_1' })).toBe(true);
    expect(canSee(active, { kind: 'publisher', publisherId: 'pub_2' })).toBe(false);
  });
});
