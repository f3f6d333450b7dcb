import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { Decimal } from '../../src/shared/money.js';
import {
  clawbackEntry,
  clawbackSplit,
  earnEntry,
  euroPart,
  expiryCutoff,
  expiryEntry,
  maturityEntry,
  maturitySplit,
  pointsEarned,
  pointsKept,
  pointsToExpire,
  spendEntry,
} from '../../src/domain/points.js';
import type { PointsEntry } from '../../src/store/points.js';
import { settlementFromSums } from '../../src/domain/settlement.js';

const d = (v: string) => new Decimal(v);
const programme = { enabled: true, pointValue: d('0.01') };
const holder = { child: false, pointsAllowed: false };

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
  }
  throw new Error('expected an AppError');
}

/** Sums per unit: every entry balances in each unit it touches. */
function sumsPerUnit(entry: PointsEntry): Map<string, string> {
  const sums = new Map<string, Decimal>();
  for (const p of entry.postings) sums.set(p.unit, (sums.get(p.unit) ?? d('0')).plus(p.amount));
  return new Map([...sums].map(([unit, total]) => [unit, total.toFixed(2)]));
}

describe('pointsEarned: floor(amount × pointsPerEuro)', () => {
  it('When 4.99 is bought at 10 points per euro, then 49 points are earned, never a fraction', () => {
    expect(pointsEarned(d('4.99'), d('10'))).toBe(49);
    expect(pointsEarned(d('0.09'), d('10'))).toBe(0);
    expect(pointsEarned(d('3.33'), d('1.5'))).toBe(4);
    expect(pointsEarned(d('50.00'), d('0'))).toBe(0);
  });
});

describe('euroPart: the price less the points', () => {
  it('When 150 points at 0.01 pay part of 2.00, then 0.50 is left in euros', () => {
    expect(euroPart(d('2.00'), 150, programme, holder).toFixed(2)).toBe('0.50');
    expect(euroPart(d('2.00'), 200, programme, holder).toFixed(2)).toBe('0.00');
    expect(euroPart(d('2.00'), 0, { enabled: false, pointValue: d('0.01') }, holder).toFixed(2)).toBe('2.00');
  });

  it('When the points are worth more than the price, then invalid_request naming how many fit', () => {
    const error = errorOf(() => euroPart(d('0.55'), 60, { enabled: true, pointValue: d('0.02') }, holder));
    expect(error.code).toBe('invalid_request');
    expect(error.details.maxPoints).toBe(27);
  });

  it('When there is no programme, or a child is not allowed, then invalid_state or forbidden', () => {
    expect(errorOf(() => euroPart(d('1.00'), 1, { enabled: false, pointValue: d('0.01') }, holder)).code).toBe(
      'invalid_state',
    );
    expect(errorOf(() => euroPart(d('1.00'), 1, programme, { child: true, pointsAllowed: false })).code).toBe(
      'forbidden',
    );
    expect(euroPart(d('1.00'), 1, programme, { child: true, pointsAllowed: true }).toFixed(2)).toBe('0.99');
  });
});

describe('pointsKept: the proportional share a partial refund leaves', () => {
  it('When 2.55 of 10.00 is refunded from 100 points, then 74 are kept; a full refund keeps none', () => {
    expect(pointsKept(100, d('10.00'), d('7.45'))).toBe(74);
    expect(pointsKept(100, d('10.00'), d('0.00'))).toBe(0);
    expect(pointsKept(100, d('10.00'), d('10.00'))).toBe(100);
  });

  it('When refunds come in any pieces, then the points taken back add up to exactly what was earned', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 8 }),
        (amountCents, earned, pieces) => {
          const amount = new Decimal(amountCents).dividedBy(100);
          let remaining = amount;
          let taken = 0;
          for (const piece of pieces) {
            const refund = Decimal.min(remaining, new Decimal(piece).dividedBy(100));
            const after = remaining.minus(refund);
            const step = pointsKept(earned, amount, remaining) - pointsKept(earned, amount, after);
            expect(step).toBeGreaterThanOrEqual(0);
            taken += step;
            remaining = after;
          }
          taken += pointsKept(earned, amount, remaining) - pointsKept(earned, amount, d('0'));
          expect(taken).toBe(earned);
        },
      ),
    );
  });
});

describe('clawbackSplit, maturitySplit, pointsToExpire', () => {
  it('When 200 are taken back with 30 of the lot pending and 80 available, then 30, 80 and 90 owed', () => {
    expect(clawbackSplit(200, 30, 80)).toEqual({ fromPending: 30, fromAvailable: 80, owed: 90 });
    expect(clawbackSplit(20, 30, 80)).toEqual({ fromPending: 20, fromAvailable: 0, owed: 0 });
  });

  it('When any clawback is split, then its parts add up and available never goes below zero', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(1000), (points, lot, available) => {
        const s = clawbackSplit(points, lot, available);
        expect(s.fromPending + s.fromAvailable + s.owed).toBe(points);
        expect(s.fromAvailable).toBeLessThanOrEqual(available);
        expect(s.fromPending).toBeLessThanOrEqual(lot);
        expect(Math.min(s.fromPending, s.fromAvailable, s.owed)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('When 50 mature while 40 are owed, then 40 repay and 10 become available', () => {
    expect(maturitySplit(50, 40)).toEqual({ repaid: 40, available: 10 });
    expect(maturitySplit(50, 0)).toEqual({ repaid: 0, available: 50 });
  });

  it('When 100 became available before the cutoff and 30 left since, then 70 expire, never more than available', () => {
    expect(pointsToExpire(100, 30, 120)).toBe(70);
    expect(pointsToExpire(100, 30, 50)).toBe(50);
    expect(pointsToExpire(100, 130, 50)).toBe(0);
  });

  it('When expiry is 12 months, then the cutoff is the same day a year earlier', () => {
    expect(expiryCutoff(new Date('2027-11-30T10:00:00Z')).toISOString()).toBe('2026-11-30T10:00:00.000Z');
  });
});

describe('Entries balance per unit', () => {
  it('When points are earned, spent, taken back, matured and expired, then each entry sums to zero in PTS and EUR', () => {
    const base = { purchaseId: 'p1', holderId: 'h', operatorId: 'op', publisherId: 'pub', pointValue: d('0.01') };
    const at = new Date();
    const entries = [
      earnEntry({ ...base, points: 200, at }),
      spendEntry({ ...base, points: 120, at }),
      clawbackEntry({ ...base, key: 'k', split: { fromPending: 10, fromAvailable: 80, owed: 110 }, at }),
      maturityEntry({ purchaseId: 'p1', holderId: 'h', operatorId: 'op', split: { repaid: 40, available: 10 }, at }),
      expiryEntry({ holderId: 'h', operatorId: 'op', points: 7, outflowAfter: 7, pointValue: d('0.01'), at }),
    ];
    for (const entry of entries) {
      for (const total of sumsPerUnit(entry).values()) expect(total).toBe('0.00');
      for (const p of entry.postings.filter((x) => x.unit === 'PTS')) expect(p.amount.isInteger()).toBe(true);
    }
    expect(entries[0]?.postings.find((p) => p.unit === 'EUR' && p.amount.gt(0))?.amount.toFixed(2)).toBe('2.00');
  });
});

describe('settlementFromSums with points', () => {
  it('When a publisher issued 2.00 and was redeemed 1.20, then net includes both and the identity holds', () => {
    const s = settlementFromSums({
      gross: d('1.80'),
      commission: d('0.27'),
      refunds: d('0.00'),
      chargebacks: d('0.00'),
      pointsIssuedValue: d('2.00'),
      pointsRedeemedValue: d('1.20'),
    });
    expect(s.net.toFixed(2)).toBe('0.73');
    expect(s.gross.plus(s.pointsRedeemedValue).toFixed(2)).toBe(
      s.commission.plus(s.net).plus(s.refunds).plus(s.chargebacks).plus(s.pointsIssuedValue).toFixed(2),
    );
  });
});
