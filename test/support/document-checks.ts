import { expect } from 'vitest';
import { Decimal } from '../../src/shared/money.js';
import { vatIncluded } from '../../src/domain/vat.js';
import type { TestGateway } from './harness.js';

const NUMBER = /^(\d{4})-([A-Z0-9]{1,10})-(\d{6,})$/;

/**
 * The operator's documents are numbered as API.md v1.2 asks: every one has a
 * number under the operator's one code, and per year of issue the numbers run
 * 1, 2, 3… with no gap and no repeat, in the order the documents were issued.
 */
export async function expectGapFreeNumbers(gw: TestGateway, operatorId: string): Promise<void> {
  const { rows } = await gw.ctx.database.pool.query<{ number: string | null; created_at: Date }>(
    'SELECT number, created_at FROM invoices WHERE operator_id = $1 ORDER BY created_at, number',
    [operatorId],
  );
  const parsed = rows.map((r) => {
    const match = NUMBER.exec(r.number ?? '');
    expect(match, `document number ${r.number}`).not.toBeNull();
    return { year: Number(match?.[1]), code: match?.[2], n: Number(match?.[3]) };
  });
  expect(new Set(parsed.map((p) => p.code)).size).toBeLessThanOrEqual(1);
  const byYear = new Map<number, number[]>();
  for (const p of parsed) byYear.set(p.year, [...(byYear.get(p.year) ?? []), p.n]);
  for (const ns of byYear.values()) {
    expect(ns).toEqual(ns.map((_, k) => k + 1));
  }
}

/**
 * Per purchase, the VAT its refunds credited never exceeds the VAT its invoice
 * charged, and equals it once the purchase is wholly refunded and every refund credited.
 */
export async function expectVatNeverOverCredited(gw: TestGateway, operatorId: string): Promise<void> {
  const { rows } = await gw.ctx.database.pool.query<{
    id: string;
    amount: string;
    rate: string;
    refunded: string;
    credited_amount: string;
    credited_vat: string;
  }>(
    `SELECT p.id, p.amount::text, l.vat_rate::text AS rate, p.refunded_amount::text AS refunded,
            COALESCE(sum(r.amount) FILTER (WHERE r.invoice_id IS NOT NULL), 0)::text AS credited_amount,
            COALESCE(sum(r.vat_amount) FILTER (WHERE r.invoice_id IS NOT NULL), 0)::text AS credited_vat
     FROM purchases p
     JOIN invoices i ON i.id = p.invoice_id
     JOIN invoice_lines l ON l.invoice_id = i.id AND l.kind = 'charge' AND p.id = ANY(l.purchase_ids)
     LEFT JOIN refunds r ON r.purchase_id = p.id
     WHERE i.operator_id = $1
     GROUP BY p.id, p.amount, l.vat_rate, p.refunded_amount`,
    [operatorId],
  );
  for (const row of rows) {
    const charged = vatIncluded(new Decimal(row.amount), row.rate);
    const credited = new Decimal(row.credited_vat);
    expect(credited.lte(charged), `VAT credited for ${row.id}: ${row.credited_vat} of ${charged.toFixed(2)}`).toBe(
      true,
    );
    if (new Decimal(row.credited_amount).eq(row.amount)) expect(credited.toFixed(2)).toBe(charged.toFixed(2));
  }
}
