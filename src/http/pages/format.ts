import type { Decimal } from '../../shared/money.js';
import { BILLING_TIME_ZONE } from '../../domain/periods.js';
import { frenchDay } from './french.js';
import type { Lang } from './i18n.js';

const LOCALES: Record<Lang, string> = { fr: 'fr-FR', en: 'en-GB' };

/** How a page writes amounts and dates in its language: always through Intl, always in Paris time. */
export interface Formatter {
  lang: Lang;
  /** "2,88 €" in French, "€2.88" in English. */
  money(amount: Decimal | string): string;
  /** A VAT rate as the API writes it ("0.021"): "2,1 %" in French, "2.1%" in English. */
  percent(rate: string): string;
  /** "30 novembre 2026". */
  date(at: Date): string;
  /** "lundi 7 décembre": when a weekly budget starts again. */
  weekday(at: Date): string;
  /** "30 nov. 2026, 14:05". */
  dateTime(at: Date): string;
  /** "14:05". */
  time(at: Date): string;
  /** "10,00" in French, "10.00" in English: an amount as typed in a form field, without its currency. */
  decimal(amount: Decimal): string;
}

/** Intl writes "1 janvier"; French writes "1er janvier". */
function withOrdinalFirst(lang: Lang, format: Intl.DateTimeFormat): (at: Date) => string {
  if (lang !== 'fr') return (at) => format.format(at);
  return (at) =>
    format
      .formatToParts(at)
      .map((part) => (part.type === 'day' ? frenchDay(part.value) : part.value))
      .join('');
}

const cache = new Map<Lang, Formatter>();

export function formatterFor(lang: Lang): Formatter {
  const cached = cache.get(lang);
  if (cached) return cached;
  const locale = LOCALES[lang];
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency: 'EUR' });
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 });
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: BILLING_TIME_ZONE });
  const weekday = new Intl.DateTimeFormat(locale, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    timeZone: BILLING_TIME_ZONE,
  });
  const dateTime = new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: BILLING_TIME_ZONE,
  });
  const time = new Intl.DateTimeFormat(locale, { timeStyle: 'short', timeZone: BILLING_TIME_ZONE });
  const formatter: Formatter = {
    lang,
    // A decimal string keeps the exact amount: Intl formats it digit for digit, no float involved.
    money: (amount) => money.format((typeof amount === 'string' ? amount : amount.toFixed(2)) as `${number}`),
    percent: (rate) => percent.format(rate as `${number}`),
    date: withOrdinalFirst(lang, date),
    weekday: withOrdinalFirst(lang, weekday),
    dateTime: withOrdinalFirst(lang, dateTime),
    time: (at) => time.format(at),
    decimal: (amount) => (lang === 'fr' ? amount.toFixed(2).replace('.', ',') : amount.toFixed(2)),
  };
  cache.set(lang, formatter);
  return formatter;
}
