import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundHalfEvenCentsSql, vatCreditedUpToSql, vatIncludedSql } from '../src/store/billing-sql.js';
import { commissionOn } from '../src/domain/commission.js';
import { Decimal } from '../src/shared/money.js';
import { createPool } from '../src/store/db.js';
import { type PgPool } from '../src/store/sql.js';
import { vatCreditedUpTo, vatIncluded } from '../src/domain/vat.js';
import { TEST_DATABASE_URL } from './support/env.js';

let pool: PgPool;
beforeAll(() => {
  pool = createPool(TEST_DATABASE_URL, 2);
});
afterAll(() => pool.end());

describe('SQL rounding agrees with money.ts, cent by cent', () => {
  it('When PostgreSQL computes the VAT of every amount from -50.00 to 50.00, then each equals vatIncluded', async () => {
    const { rows } = await pool.query<{ amount: string; vat: string }>(`
      SELECT a.amount::text AS amount, ${vatIncludedSql('a.amount')}::text AS vat
      FROM (SELECT (c / 100.0)::numeric(12, 2) AS amount FROM generate_series(-5000, 5000) AS c) a`);
    expect(rows).toHaveLength(10_001);
    const wrong = rows.filter((r) => vatIncluded(new Decimal(r.amount)).toFixed(2) !== new Decimal(r.vat).toFixed(2));
    expect(wrong).toEqual([]);
  });

  it('When PostgreSQL rounds commissions on every collected amount at the usual rates, then each equals commissionOn', async () => {
    const rates = ['0.15', '0.30', '0.50', '0.1234', '0.0125'];
    for (const rate of rates) {
      const { rows } = await pool.query<{ collected: string; commission: string }>(
        `SELECT a.collected::text AS collected, ${roundHalfEvenCentsSql('($1::numeric(5, 4) * a.collected)')}::text AS commission
         FROM (SELECT (c / 100.0)::numeric(12, 2) AS collected FROM generate_series(0, 5000) AS c) a`,
        [rate],
      );
      const wrong = rows.filter(
        (r) =>
          commissionOn(new Decimal(r.collected), new Decimal(rate)).toFixed(2) !== new Decimal(r.commission).toFixed(2),
      );
      expect({ rate, wrong }).toEqual({ rate, wrong: [] });
    }
  });

  it('When PostgreSQL shares the VAT of random purchases among their refunds, then each share equals vatCreditedUpTo', async () => {
    const purchase = fc.integer({ min: 1, max: 5_000 }).chain((amountCents) =>
      fc.record({
        amountCents: fc.constant(amountCents),
        rate: fc.constantFrom('0.021', '0.055', '0.10', '0.20'),
        refundedCents: fc.integer({ min: 0, max: amountCents }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(purchase, { minLength: 1, maxLength: 200 }), async (cases) => {
        const { rows } = await pool.query<{ share: string }>(
          `SELECT ${vatCreditedUpToSql(vatIncludedSql('x.amount', 'x.rate'), 'x.amount', 'x.refunded')}::text AS share
           FROM unnest($1::numeric[], $2::numeric[], $3::numeric[]) WITH ORDINALITY AS x(amount, rate, refunded, n)
           ORDER BY n`,
          [
            cases.map((c) => (c.amountCents / 100).toFixed(2)),
            cases.map((c) => c.rate),
            cases.map((c) => (c.refundedCents / 100).toFixed(2)),
          ],
        );
        const expected = cases.map((c) => {
          const amount = new Decimal(c.amountCents).dividedBy(100);
          const refunded = new Decimal(c.refundedCents).dividedBy(100);
          return vatCreditedUpTo(vatIncluded(amount, c.rate), amount, refunded).toFixed(2);
        });
        expect(rows.map((r) => new Decimal(r.share).toFixed(2))).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });
});
