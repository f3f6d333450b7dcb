import Decimal from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.js';
import { decimalOf } from '../../src/store/records.js';

describe("Prisma's Decimal as the records' decimal.js Decimal (decimalOf)", () => {
  it('When Prisma reads a numeric, then the record holds the same digits as a decimal.js Decimal', () => {
    for (const text of ['0.00', '2.88', '-1.00', '0.0210', '123456789012.34', '0.0000001', '99999999999999.99']) {
      const converted = decimalOf(new Prisma.Decimal(text));
      expect(converted).toBeInstanceOf(Decimal);
      expect(converted.eq(new Decimal(text))).toBe(true);
      expect(converted.toFixed(2)).toBe(new Decimal(text).toFixed(2));
    }
  });

  it('When a numeric is small enough for Prisma to print it with an exponent, then no digit is lost', () => {
    const tiny = new Prisma.Decimal('0.00000012345');
    expect(tiny.toString()).toContain('e');
    expect(decimalOf(tiny).toFixed()).toBe('0.00000012345');
  });

  it('When the column is NULL, then the record holds null', () => {
    expect(decimalOf(null)).toBeNull();
  });
});
