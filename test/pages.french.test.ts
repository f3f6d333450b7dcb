import { describe, expect, it } from 'vitest';
import { Decimal } from '../src/shared/money.js';
import { formatterFor } from '../src/http/pages/format.js';
import { frenchDay, ofName, toName } from '../src/http/pages/french.js';
import { en } from '../src/http/pages/messages/en.js';
import { fr } from '../src/http/pages/messages/fr.js';
import { purchaseList, purchaseShownStatus, type PurchaseItem } from '../src/http/pages/subscriber-space.js';
import { deviceOf } from '../src/http/pages/user-agent.js';

/** Every sentence a catalogue can produce: its strings, and its functions called with sample words. */
function sentencesOf(catalogue: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') out.push(value);
    else if (typeof value === 'function') {
      const fn = value as (...args: unknown[]) => unknown;
      walk(fn(...Array.from({ length: fn.length }, () => 'Orange')));
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(catalogue);
  return out;
}

describe('French grammar for names in sentences', () => {
  it('When "à" meets a name with an article, then it contracts with le and les and keeps la and l’', () => {
    expect(toName('Le Courrier du Soir')).toBe('au Courrier du Soir');
    expect(toName('Les Échos')).toBe('aux Échos');
    expect(toName('La Gazette')).toBe('à La Gazette');
    expect(toName('L’Équipe')).toBe('à L’Équipe');
    expect(toName("L'Équipe")).toBe("à L'Équipe");
    expect(toName('Orange')).toBe('à Orange');
    expect(toName('Lemonde')).toBe('à Lemonde');
    expect(toName('Le')).toBe('à Le');
  });

  it('When "de" meets a name, then it contracts with le and les and elides before a vowel', () => {
    expect(ofName('Le Courrier du Soir')).toBe('du Courrier du Soir');
    expect(ofName('Les Échos')).toBe('des Échos');
    expect(ofName('La Gazette')).toBe('de La Gazette');
    expect(ofName('L’Équipe')).toBe('de L’Équipe');
    expect(ofName('Orange')).toBe('d’Orange');
    expect(ofName('Émeraude Télécom')).toBe('d’Émeraude Télécom');
    expect(ofName('SFR')).toBe('de SFR');
    expect(ofName('Bouygues Telecom')).toBe('de Bouygues Telecom');
  });

  it('When a French date falls on the first of the month, then it reads "1er"; other days and English dates keep their number', () => {
    expect(frenchDay('1')).toBe('1er');
    expect(frenchDay('11')).toBe('11');
    expect(frenchDay('21')).toBe('21');
    const fr1 = formatterFor('fr');
    const firstOfJanuary = new Date('2027-01-01T10:00:00Z');
    expect(fr1.weekday(firstOfJanuary)).toBe('vendredi 1er janvier');
    expect(fr1.date(firstOfJanuary)).toBe('1er janvier 2027');
    expect(fr1.dateTime(firstOfJanuary)).toMatch(/^1er janv\. 2027/);
    expect(fr1.date(new Date('2027-01-11T10:00:00Z'))).toBe('11 janvier 2027');
    expect(formatterFor('en').date(firstOfJanuary)).toBe('1 January 2027');
  });

  it('When an amount prefills a form field, then it has the page’s decimal separator', () => {
    expect(formatterFor('fr').decimal(new Decimal('10'))).toBe('10,00');
    expect(formatterFor('en').decimal(new Decimal('10'))).toBe('10.00');
  });

  it('When the French catalogue says anything, then its apostrophes are all typographic and it never says "moins que"', () => {
    const sentences = sentencesOf(fr);
    expect(sentences.length).toBeGreaterThan(150);
    expect(sentences.filter((s) => s.includes("'"))).toEqual([]);
    expect(sentences.filter((s) => s.includes('moins que'))).toEqual([]);
  });

  it('When a sentence names a publisher or an operator, then French contracts the article and English leaves the name alone', () => {
    expect(fr.backTo('Le Courrier du Soir')).toBe('Retour au Courrier du Soir');
    expect(fr.cancelAndBack('Les Échos')).toBe('Annuler et revenir aux Échos');
    expect(fr.operatorHelpLink('Orange')).toBe('Service client d’Orange');
    expect(en.backTo('Le Courrier du Soir')).toBe('Back to Le Courrier du Soir');
  });
});

describe('What a page shows from raw records', () => {
  it('When a user agent is a common browser, then it is named with its system', () => {
    const android =
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
    const iphone =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
    const edge =
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';
    const firefox = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0';
    const samsung =
      'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36';
    expect(deviceOf(android)).toEqual({ browser: 'Chrome', os: 'Android' });
    expect(deviceOf(iphone)).toEqual({ browser: 'Safari', os: 'iPhone' });
    expect(deviceOf(edge)).toEqual({ browser: 'Edge', os: 'Windows' });
    expect(deviceOf(firefox)).toEqual({ browser: 'Firefox', os: 'macOS' });
    expect(deviceOf(samsung)).toEqual({ browser: 'Samsung Internet', os: 'Android' });
    expect(deviceOf('TestPhone/1.0')).toEqual({ browser: null, os: null });
    expect(deviceOf(null)).toEqual({ browser: null, os: null });
  });

  it('When a confirmed purchase has an invoice, then its status follows the invoice; before one, it is on the next bill', () => {
    expect(purchaseShownStatus('confirmed', null)).toBe('confirmed');
    expect(purchaseShownStatus('confirmed', 'issued')).toBe('billed');
    expect(purchaseShownStatus('confirmed', 'paid')).toBe('paid');
    expect(purchaseShownStatus('confirmed', 'unpaid')).toBe('unpaid');
    expect(purchaseShownStatus('confirmed', 'partially_paid')).toBe('partially_paid');
    expect(purchaseShownStatus('refunded', 'paid')).toBe('refunded');
    expect(purchaseShownStatus('disputed', 'issued')).toBe('disputed');
    for (const code of ['confirmed', 'billed', 'paid', 'unpaid', 'partially_paid']) {
      expect(fr.purchaseStatus[code], code).toBeDefined();
      expect(en.purchaseStatus[code], code).toBeDefined();
    }
  });

  it('When a billed purchase’s invoice has no number or is not listed on the page, then it reads by date alone or without a link', () => {
    const billed = (invoice: PurchaseItem['invoice']): PurchaseItem => ({
      id: 'pur_1',
      at: new Date('2026-03-02T10:00:00Z'),
      publisherName: 'La Gazette',
      description: 'Un article',
      amount: '1.50',
      refunded: null,
      status: 'billed',
      invoice,
      evidence: null,
      disputable: false,
    });
    const issuedOn = new Date('2026-04-01T04:00:00Z');
    const f = formatterFor('fr');
    const unnumbered = purchaseList(fr, f, [billed({ id: 'inv_1', number: null, issuedOn })], null, new Set());
    expect(unnumbered).toContain('<p class="meta">Sur la facture du 1er avril 2026</p>');
    const unlisted = purchaseList(
      fr,
      f,
      [billed({ id: 'inv_1', number: '2026-ABC-000007', issuedOn })],
      null,
      new Set(),
    );
    expect(unlisted).toContain(
      '<p class="meta">Sur la facture n°&nbsp;<span class="doc-number">2026-ABC-000007</span> du 1er avril 2026</p>',
    );
    expect(unlisted).not.toContain('<a href="#invoice-');
    const english = purchaseList(
      en,
      formatterFor('en'),
      [billed({ id: 'inv_1', number: null, issuedOn })],
      null,
      new Set(['inv_1']),
    );
    expect(english).toContain('<p class="meta"><a href="#invoice-inv_1">On the invoice of 1 April 2026</a></p>');
  });
});
