import { describe, expect, it } from 'vitest';
import { explainDecline, nextMonthStart, nextWeekStart } from '../../src/domain/charge-forecast.js';
import { Decimal } from '../../src/shared/money.js';
import { formatterFor } from '../../src/http/pages/format.js';
import { fromAcceptLanguage } from '../../src/http/pages/i18n.js';
import { en } from '../../src/http/pages/messages/en.js';
import { fr } from '../../src/http/pages/messages/fr.js';

type Shape = string | { [key: string]: Shape };

/** The catalogue's skeleton: each key, and for a function its number of parameters. */
function shapeOf(value: unknown): Shape {
  if (typeof value === 'function') return `function/${value.length}`;
  if (typeof value === 'string') return 'string';
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shapeOf(v)]));
}

function leaves(value: unknown, path = ''): [string, unknown][] {
  if (typeof value === 'string' || typeof value === 'function') return [[path, value]];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

describe('The message catalogues', () => {
  it('When French and English are compared, then every key is in both, with the same parameters', () => {
    expect(shapeOf(en)).toEqual(shapeOf(fr));
  });

  it('When every message is rendered, then none is empty and none leaves a placeholder unfilled', () => {
    for (const catalogue of [fr, en]) {
      for (const [path, message] of leaves(catalogue)) {
        const text =
          typeof message === 'function'
            ? (message as (...args: string[]) => string)(
                ...Array.from({ length: (message as (...args: string[]) => string).length }, (_, i) => `X${i + 1}`),
              )
            : (message as string);
        expect(text.trim().length, path).toBeGreaterThan(0);
        expect(text, path).not.toMatch(/undefined|\$\{|\{\w+\}/);
      }
    }
  });

  it('When a French sentence is compared with its English twin, then only names may be the same', () => {
    const same = leaves(fr)
      .filter(([path, message]) => typeof message === 'string' && message === leaves(en).find(([p]) => p === path)?.[1])
      .map(([path]) => path);
    expect(same).toEqual(['kiosque']);
  });

  it('When the catalogues give the language, then it is the one the page claims', () => {
    expect(fr.htmlLang).toBe('fr');
    expect(en.htmlLang).toBe('en');
    expect(fr.vatIncluded).toBe('TTC');
    expect(en.vatIncluded).toBe('VAT included');
  });
});

describe('Formatting for the page language', () => {
  it('When an amount is shown in French, then it has a decimal comma, grouped thousands and a trailing euro sign', () => {
    const f = formatterFor('fr');
    expect(f.money('2.88')).toBe('2,88\u00a0€');
    expect(f.money(new Decimal('1234.50'))).toBe('1\u202f234,50\u00a0€');
    expect(f.money('0.10')).toBe('0,10\u00a0€');
  });

  it('When an amount is shown in English, then it reads the British way', () => {
    expect(formatterFor('en').money('2.88')).toBe('€2.88');
    expect(formatterFor('en').money(new Decimal('1234.50'))).toBe('€1,234.50');
  });

  it('When an amount has more digits than a float holds, then every digit survives: no float in between', () => {
    expect(formatterFor('en').money('123456789012345.67')).toBe('€123,456,789,012,345.67');
  });

  it('When a date late on a UTC evening is shown, then it is the Paris calendar day', () => {
    const lateUtc = new Date('2026-11-30T23:30:00Z');
    expect(formatterFor('fr').date(lateUtc)).toBe('1er décembre 2026');
    expect(formatterFor('en').date(lateUtc)).toBe('1 December 2026');
    expect(formatterFor('fr').weekday(lateUtc)).toBe('mardi 1er décembre');
  });
});

describe('Choosing the language from Accept-Language', () => {
  it('When the browser ranks languages, then the best of ours wins and others are ignored', () => {
    expect(fromAcceptLanguage('en-GB,en;q=0.9,fr;q=0.8')).toBe('en');
    expect(fromAcceptLanguage('de-DE,de;q=0.9,fr;q=0.5,en;q=0.4')).toBe('fr');
    expect(fromAcceptLanguage('fr;q=0.2, en;q=0.7')).toBe('en');
    expect(fromAcceptLanguage('de, es')).toBeNull();
    expect(fromAcceptLanguage('en;q=0')).toBeNull();
    expect(fromAcceptLanguage(undefined)).toBeNull();
  });
});

describe('Explaining a certain decline', () => {
  const base = {
    amount: new Decimal('3.00'),
    category: 'press',
    publisherSuspended: false,
    limits: { perPurchase: new Decimal('30.00'), weekly: new Decimal('10.00'), monthly: new Decimal('150.00') },
    controls: null,
    spentThisWeek: new Decimal('7.50'),
    spentThisMonth: new Decimal('7.50'),
  };
  const monday = new Date('2026-11-30T10:00:00Z');

  it('When the week budget is short, then it says what is left, the limit and next Monday at midnight in Paris', () => {
    expect(explainDecline(base, monday)).toEqual({
      code: 'weekly_ceiling',
      limit: new Decimal('10.00'),
      remaining: new Decimal('2.50'),
      resetsAt: new Date('2026-12-06T23:00:00Z'),
    });
  });

  it('When a category is blocked for a child, then it names the category', () => {
    const controls = { blocked: false, blockedCategories: ['press'], weekly: null, monthly: null };
    expect(explainDecline({ ...base, controls }, monday)).toEqual({ code: 'category_blocked', category: 'press' });
  });

  it('When nothing stands in the way, then there is nothing to explain', () => {
    expect(explainDecline({ ...base, spentThisWeek: new Decimal(0) }, monday)).toBeNull();
  });

  it('When budgets start again, then a week starts on Monday and a month on the 1st, in Paris time across DST', () => {
    expect(nextWeekStart(new Date('2026-03-25T12:00:00Z'))).toEqual(new Date('2026-03-29T22:00:00Z'));
    expect(nextMonthStart(new Date('2026-03-15T12:00:00Z'))).toEqual(new Date('2026-03-31T22:00:00Z'));
    expect(nextMonthStart(new Date('2026-12-31T23:30:00Z'))).toEqual(new Date('2027-01-31T23:00:00Z'));
  });
});
