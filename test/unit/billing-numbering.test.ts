import { describe, expect, it } from 'vitest';
import { documentNumber, parisYear } from '../../src/store/billing-numbering.js';

describe('Document numbers', () => {
  it('When the 42nd document of 2026 is numbered, then it reads <YYYY>-<code>-<n on six digits>', () => {
    expect(documentNumber(2026, 'OR7K2M9QXA', 42)).toBe('2026-OR7K2M9QXA-000042');
    expect(documentNumber(2026, 'A', 1)).toBe('2026-A-000001');
  });

  it('When an operator issues more than 999,999 documents in a year, then n keeps counting past six digits', () => {
    expect(documentNumber(2027, 'FR01', 1_000_000)).toBe('2027-FR01-1000000');
  });

  it('When the code is not [A-Z0-9]{1,10} or n is not a positive integer, then no number is made', () => {
    for (const code of ['', 'lower', 'ELEVENCHARS', 'A-B']) expect(() => documentNumber(2026, code, 1)).toThrow();
    for (const n of [0, -1, 1.5]) expect(() => documentNumber(2026, 'A', n)).toThrow();
  });

  it('When it is New Year in Paris but not yet in UTC, then the year of issue is the new one', () => {
    expect(parisYear(new Date('2026-12-31T22:59:59Z'))).toBe(2026);
    expect(parisYear(new Date('2026-12-31T23:00:00Z'))).toBe(2027);
    expect(parisYear(new Date('2027-06-30T22:30:00Z'))).toBe(2027);
  });
});
