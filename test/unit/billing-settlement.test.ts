import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/shared/money.js';
import { sum } from '../support/money.js';
import { purchaseSettlement, settlementFromSums, type PurchaseMoney } from '../../src/domain/settlement.js';

const d = (v: string) => new Decimal(v);

function expectAddsUp(s: {
  gross: Decimal;
  commission: Decimal;
  refunds: Decimal;
  chargebacks: Decimal;
  net: Decimal;
}) {
  expect(s.commission.plus(s.net).plus(s.refunds).plus(s.chargebacks).toFixed(2)).toBe(s.gross.toFixed(2));
}

describe('purchaseSettlement: one purchase split between Kiosque and its publisher', () => {
  it('When nothing was refunded, then the commission is the rate of the whole amount, rounded half-even', () => {
    const s = purchaseSettlement({ amount: d('3.33'), refunded: d('0'), chargedBack: d('0'), rate: d('0.50') });
    // 1.665 → 1.66 (half-even), net 1.67.
    expect(s.commission.toFixed(2)).toBe('1.66');
    expect(s.net.toFixed(2)).toBe('1.67');
    expectAddsUp(s);
  });

  it('When part was refunded, then no commission is kept on the refunded part', () => {
    const s = purchaseSettlement({ amount: d('10.00'), refunded: d('4.00'), chargedBack: d('0'), rate: d('0.15') });
    expect(s.commission.toFixed(2)).toBe('0.90');
    expect(s.refunds.toFixed(2)).toBe('4.00');
    expect(s.net.toFixed(2)).toBe('5.10');
    expectAddsUp(s);
  });

  it('When the bill went unpaid, then the rest is a chargeback and no commission is kept at all', () => {
    const s = purchaseSettlement({ amount: d('10.00'), refunded: d('4.00'), chargedBack: d('6.00'), rate: d('0.15') });
    expect(s.commission.toFixed(2)).toBe('0.00');
    expect(s.net.toFixed(2)).toBe('0.00');
    expect(s.chargebacks.toFixed(2)).toBe('6.00');
    expectAddsUp(s);
  });
});

describe('settlementFromSums: a publisher over many purchases', () => {
  it('When per-purchase settlements are summed, then the publisher line equals that sum and adds up to the cent', () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const purchases: PurchaseMoney[] = Array.from({ length: 500 }, () => {
      const amountCents = 1 + next(5000);
      const refundedCents = next(3) === 0 ? next(amountCents + 1) : 0;
      const chargedBackCents = next(5) === 0 ? amountCents - refundedCents : 0;
      return {
        amount: new Decimal(amountCents).dividedBy(100),
        refunded: new Decimal(refundedCents).dividedBy(100),
        chargedBack: new Decimal(chargedBackCents).dividedBy(100),
        rate: [d('0.15'), d('0.30'), d('0.50'), d('0.1234')][next(4)] as Decimal,
      };
    });
    const each = purchases.map(purchaseSettlement);
    const publisher = settlementFromSums({
      gross: sum(each.map((s) => s.gross)),
      commission: sum(each.map((s) => s.commission)),
      refunds: sum(each.map((s) => s.refunds)),
      chargebacks: sum(each.map((s) => s.chargebacks)),
    });
    expect(publisher.net.toFixed(2)).toBe(sum(each.map((s) => s.net)).toFixed(2));
    expectAddsUp(publisher);
    for (const s of each) expectAddsUp(s);
  });
});
