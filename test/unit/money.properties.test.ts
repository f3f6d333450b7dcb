import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorize, budget, limitsInForce, type HouseholdControls, type Limits } from '../../src/domain/ceilings.js';
import { commissionOn } from '../../src/domain/commission.js';
import { formatAmount, toCents } from '../../src/domain/money.js';
import { amount as amountSchema, Decimal } from '../../src/shared/money.js';
import { sum } from '../support/money.js';
import { purchaseSettlement, settlementFromSums } from '../../src/domain/settlement.js';
import { vatBreakdown, vatCreditedUpTo, vatIncluded } from '../../src/domain/vat.js';

/** Property tests: each runs a few hundred random cases; a failure prints the smallest counter-example. */
const RUNS = { numRuns: 300 };

const cents = (min: number, max: number) => fc.integer({ min, max }).map((c) => new Decimal(c).dividedBy(100));
/** Any amount the API accepts: 0.01 to 50.00. */
const amount = cents(1, 5_000);
/** Rates as configured: four decimals from 0 to 1. */
const rate = fc.integer({ min: 0, max: 10_000 }).map((r) => new Decimal(r).dividedBy(10_000));
/** Arbitrary decimals with up to six places, as intermediate products are. */
const anyDecimal = fc
  .integer({ min: -1_000_000_000, max: 1_000_000_000 })
  .map((n) => new Decimal(n).dividedBy(1_000_000));

const hasCents = (d: Decimal) => d.decimalPlaces() <= 2;

describe('Money arithmetic (properties)', () => {
  it('When any decimal is rounded to the cent, then it has two places, moves by at most half a cent, and rounding again changes nothing', () => {
    fc.assert(
      fc.property(anyDecimal, (x) => {
        const rounded = toCents(x);
        expect(hasCents(rounded)).toBe(true);
        expect(rounded.minus(x).abs().lte('0.005')).toBe(true);
        expect(toCents(rounded).eq(rounded)).toBe(true);
        expect(toCents(x.negated()).eq(rounded.negated())).toBe(true);
      }),
      RUNS,
    );
  });

  it('When a value lies exactly half-way between two cents, then it rounds to the even cent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (c) => {
        const rounded = toCents(new Decimal(c).plus('0.5').dividedBy(100));
        const expected = c % 2 === 0 ? c : c + 1;
        expect(rounded.times(100).toNumber()).toBe(expected);
      }),
      RUNS,
    );
  });

  it('When an amount is formatted and parsed back, then it is the same amount', () => {
    fc.assert(
      fc.property(cents(0, 99_999_999), (x) => {
        const parsed = amountSchema.parse(formatAmount(x));
        expect(parsed?.eq(x)).toBe(true);
      }),
      RUNS,
    );
  });

  it('When amounts are summed in any order, then the total is the same and exact', () => {
    fc.assert(
      fc.property(fc.array(cents(-5_000, 5_000), { maxLength: 50 }), (values) => {
        const total = sum(values);
        expect(sum([...values].reverse()).eq(total)).toBe(true);
        const totalCents = values.reduce((acc, v) => acc + v.times(100).toNumber(), 0);
        expect(total.times(100).toNumber()).toBe(totalCents);
      }),
      RUNS,
    );
  });

  it('When a commission is taken, then it is whole cents, between zero and the amount, and commission + net is the amount', () => {
    fc.assert(
      fc.property(amount, rate, (collected, r) => {
        const commission = commissionOn(collected, r);
        expect(hasCents(commission)).toBe(true);
        expect(commission.gte(0) && commission.lte(collected)).toBe(true);
        expect(commission.minus(collected.times(r)).abs().lte('0.005')).toBe(true);
      }),
      RUNS,
    );
  });

  it('When purchases with refunds and chargebacks are settled, then gross = commission + net + refunds + chargebacks, per purchase and in total', () => {
    const purchase = amount.chain((a) =>
      fc
        .record({
          amount: fc.constant(a),
          refunded: cents(0, a.times(100).toNumber()),
          rate,
        })
        .chain((p) =>
          cents(0, p.amount.minus(p.refunded).times(100).toNumber()).map((chargedBack) => ({ ...p, chargedBack })),
        ),
    );
    fc.assert(
      fc.property(fc.array(purchase, { minLength: 1, maxLength: 40 }), (purchases) => {
        const parts = purchases.map(purchaseSettlement);
        for (const s of parts) {
          expect(s.gross.eq(s.commission.plus(s.net).plus(s.refunds).plus(s.chargebacks))).toBe(true);
          expect(s.net.gte(0)).toBe(true);
          expect([s.commission, s.net].every(hasCents)).toBe(true);
        }
        const totals = settlementFromSums({
          gross: sum(parts.map((s) => s.gross)),
          commission: sum(parts.map((s) => s.commission)),
          refunds: sum(parts.map((s) => s.refunds)),
          chargebacks: sum(parts.map((s) => s.chargebacks)),
        });
        expect(totals.net.eq(sum(parts.map((s) => s.net)))).toBe(true);
      }),
      RUNS,
    );
  });

  it('When a document holds any lines at any rates, then its VAT breakdown adds up to its total and its VAT total', () => {
    const rates = fc.constantFrom('0.021', '0.055', '0.10', '0.20');
    const line = fc.record({ amount: cents(-5_000, 5_000), vatRate: rates });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), (lines) => {
        const priced = lines.map((l) => ({ ...l, vat: vatIncluded(l.amount, l.vatRate) }));
        const entries = vatBreakdown(priced);
        expect(new Set(entries.map((e) => e.rate)).size).toBe(entries.length);
        expect(sum(entries.map((e) => e.base.plus(e.vat))).eq(sum(lines.map((l) => l.amount)))).toBe(true);
        expect(sum(entries.map((e) => e.vat)).eq(sum(priced.map((l) => l.vat)))).toBe(true);
        for (const l of lines) {
          expect(vatIncluded(l.amount.negated(), l.vatRate).eq(vatIncluded(l.amount, l.vatRate).negated())).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('When a purchase is refunded in any steps, then the VAT credited grows with each, never exceeds what was charged, and equals it at the end', () => {
    const refunded = amount.chain((a) =>
      fc.record({
        amount: fc.constant(a),
        rate: fc.constantFrom('0.021', '0.055', '0.10', '0.20'),
        steps: fc.array(cents(1, a.times(100).toNumber()), { minLength: 1, maxLength: 8 }),
      }),
    );
    fc.assert(
      fc.property(refunded, ({ amount: a, rate: r, steps }) => {
        const charged = vatIncluded(a, r);
        let soFar = new Decimal(0);
        let credited = new Decimal(0);
        for (const step of steps) {
          soFar = Decimal.min(a, soFar.plus(step));
          const upTo = vatCreditedUpTo(charged, a, soFar);
          expect(upTo.gte(credited) && upTo.lte(charged) && hasCents(upTo)).toBe(true);
          credited = upTo;
        }
        expect(vatCreditedUpTo(charged, a, a).eq(charged)).toBe(true);
      }),
      RUNS,
    );
  });
});

const limits: fc.Arbitrary<Limits> = fc.record({
  perPurchase: cents(1, 5_000),
  weekly: cents(1, 30_000),
  monthly: cents(1, 30_000),
});
const controls: fc.Arbitrary<HouseholdControls | null> = fc.option(
  fc.record({
    blocked: fc.constant(false),
    blockedCategories: fc.constant([] as string[]),
    weekly: fc.option(cents(0, 30_000), { nil: null }),
    monthly: fc.option(cents(0, 30_000), { nil: null }),
  }),
  { nil: null },
);

describe('Ceilings (properties)', () => {
  it("When a holder sets controls on a child, then the limits in force are never above the operator's nor the holder's", () => {
    fc.assert(
      fc.property(limits, controls, (operator, child) => {
        const inForce = limitsInForce(operator, child);
        expect(inForce.perPurchase.eq(operator.perPurchase)).toBe(true);
        expect(inForce.weekly.lte(operator.weekly) && inForce.monthly.lte(operator.monthly)).toBe(true);
        if (child?.weekly) expect(inForce.weekly.lte(child.weekly)).toBe(true);
        if (child?.monthly) expect(inForce.monthly.lte(child.monthly)).toBe(true);
      }),
      RUNS,
    );
  });

  it('When any sequence of purchases is authorized one by one, then what is accepted never exceeds a ceiling and a refusal names one it would', () => {
    fc.assert(
      fc.property(limits, controls, fc.array(amount, { maxLength: 80 }), (operator, child, attempts) => {
        const inForce = limitsInForce(operator, child);
        let week = new Decimal(0);
        let month = new Decimal(0);
        for (const attempt of attempts) {
          const code = authorize({
            amount: attempt,
            category: 'press',
            publisherSuspended: false,
            limits: inForce,
            controls: child,
            spentThisWeek: week,
            spentThisMonth: month,
          });
          if (code === null) {
            week = week.plus(attempt);
            month = month.plus(attempt);
          } else if (code === 'per_purchase_limit') expect(attempt.gt(inForce.perPurchase)).toBe(true);
          else if (code === 'weekly_ceiling') expect(week.plus(attempt).gt(inForce.weekly)).toBe(true);
          else {
            expect(code).toBe('monthly_ceiling');
            expect(month.plus(attempt).gt(inForce.monthly)).toBe(true);
          }
          const shown = budget(inForce, week, month);
          expect(new Decimal(shown.weekly.remaining).eq(Decimal.max(0, inForce.weekly.minus(week)))).toBe(true);
        }
        expect(week.lte(inForce.weekly) && month.lte(inForce.monthly)).toBe(true);
      }),
      RUNS,
    );
  });
});
