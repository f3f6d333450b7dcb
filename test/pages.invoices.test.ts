import { describe, expect, it } from 'vitest';
import { useBillingHarness, postBillingRun, refund, waitForRun } from './support/billing.js';
import { assertion, bearer, buy, provision } from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

const gw = useGateway();
useBillingHarness(gw, { worker: true });
const operator = useOperator(gw);
const publisher = usePublisher(gw, { category: 'press' });
const games = usePublisher(gw, { category: 'games' });

describe('The subscriber space shows the invoices that carry its purchases', () => {
  it('When a purchase has been billed, then /me lists the invoice with its total, its VAT, its line and the purchase says which invoice', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const { id, res } = await buy(gw, publisher, token, { amount: '2.88', description: 'Edition du jour' });
    expect(res.status).toBe(200);
    const posted = await postBillingRun(gw, operator);
    expect(posted.status).toBe(202);
    const run = { id: posted.body.id as string };
    await waitForRun(gw, operator, run.id);
    const invoices = await gw
      .api()
      .get('/v1/operator/invoices')
      .query({ billingRun: run.id })
      .set(bearer(operator.apiKey));
    const invoice = (invoices.body.data as { id: string; number: string; subscriberRef: string }[]).find(
      (i) => i.subscriberRef === ref,
    );
    if (!invoice) throw new Error(`no invoice for ${ref}: ${JSON.stringify(invoices.body)}`);

    const browser = gw.api();
    expect((await browser.get('/me').query({ assertion: token })).status).toBe(303);
    const page = await browser.get('/me');
    expect(page.status).toBe(200);
    const section = page.text.slice(page.text.indexOf('id="invoices"'));
    expect(section).toContain(`id="invoice-${invoice.id}"`);
    // 2.88 of French online press at 2.1%: 0.06 of VAT, written the French way.
    expect(section).toContain('2,88\u00a0€');
    expect(section).toContain('dont TVA 0,06\u00a0€');
    expect(section).toContain('TVA 2,1\u00a0%\u00a0: 0,06\u00a0€ sur 2,82\u00a0€');
    expect(section).toContain('Edition du jour');
    const purchaseOf = (html: string) => {
      const item = html.slice(html.indexOf(`id="purchase-${id}"`));
      return item.slice(0, item.indexOf('</li>'));
    };
    const invoiceOf = (html: string) => {
      const item = html.slice(html.indexOf(`id="invoice-${invoice.id}"`));
      return item.slice(0, item.indexOf('</li>'));
    };
    // The invoice by the number the list shows, leading to it there: the date alone names no document.
    expect(purchaseOf(page.text)).toMatch(
      new RegExp(
        `<a href="#invoice-${invoice.id}">Sur la facture n°&nbsp;<span class="doc-number">${invoice.number}</span> du \\d{1,2}(er)? \\p{L}+ \\d{4}</a>`,
        'u',
      ),
    );
    expect(purchaseOf((await browser.get('/me').query({ lang: 'en' })).text)).toContain(
      `<a href="#invoice-${invoice.id}">On invoice no.&nbsp;<span class="doc-number">${invoice.number}</span> dated `,
    );
    // ?lang= is remembered: back to French for what follows.
    await browser.get('/me').query({ lang: 'fr' });
    // Billed, not paid: the purchase says what its invoice says.
    expect(purchaseOf(page.text)).toContain('Facturé, à régler avec votre facture');
    expect(purchaseOf(page.text)).not.toMatch(/>Payé</);
    expect(invoiceOf(page.text)).toContain('Émise, à régler avec votre facture');

    const outcome = await gw
      .api()
      .post(`/v1/operator/invoices/${invoice.id}/outcome`)
      .set(bearer(operator.apiKey))
      .send({ status: 'paid' });
    expect(outcome.status).toBe(200);
    const paid = await browser.get('/me');
    expect(purchaseOf(paid.text)).toContain('>Payé<');
    expect(invoiceOf(paid.text)).toContain('Réglée');
  });

  it('When a purchase is confirmed but not yet billed, then /me says it goes on the next bill, not that it is paid', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const { id } = await buy(gw, publisher, token, { amount: '1.20', description: 'Article du soir' });
    const browser = gw.api();
    await browser.get('/me').query({ assertion: token });
    const page = await browser.get('/me');
    const item = page.text.slice(page.text.indexOf(`id="purchase-${id}"`));
    expect(item.slice(0, item.indexOf('</li>'))).toContain('Confirmé, sur votre prochaine facture');
  });

  it('When purchases at 2.1% and 20% are billed and one is refunded next run, then /me names the invoice and its credit note by number, with the VAT of each rate', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    expect((await buy(gw, publisher, token, { amount: '2.88', description: 'Le journal du jour' })).res.status).toBe(
      200,
    );
    const game = await buy(gw, games, token, { amount: '6.00', description: 'Une partie de plus' });
    expect(game.res.status).toBe(200);
    const invoice = await documentOf(ref, await billNow());
    expect(invoice.type).toBe('invoice');
    // 2.88 at 2.1% carries 0.06 of VAT on 2.82; 6.00 at 20% carries 1.00 on 5.00.
    expect(invoice.vatBreakdown).toEqual([
      { rate: '0.021', base: '2.82', vat: '0.06' },
      { rate: '0.20', base: '5.00', vat: '1.00' },
    ]);

    const browser = gw.api();
    expect((await browser.get('/me').query({ assertion: token })).status).toBe(303);
    const french = itemOf((await browser.get('/me')).text, invoice.id);
    expect(french).toContain(`Facture n°&nbsp;<span class="doc-number">${invoice.number}</span>`);
    expect(french).not.toContain(`>${invoice.id}<`);
    expect(french).toContain('8,88\u00a0€');
    expect(french).toContain('dont TVA 1,06\u00a0€');
    expect(french).toContain('<li>TVA 2,1\u00a0%\u00a0: 0,06\u00a0€ sur 2,82\u00a0€</li>');
    expect(french).toContain('<li>TVA 20\u00a0%\u00a0: 1,00\u00a0€ sur 5,00\u00a0€</li>');
    const english = itemOf((await browser.get('/me').query({ lang: 'en' })).text, invoice.id);
    expect(english).toContain(`Invoice no.&nbsp;<span class="doc-number">${invoice.number}</span>`);
    expect(english).toContain('<li>VAT 2.1%: €0.06 on €2.82</li>');
    expect(english).toContain('<li>VAT 20%: €1.00 on €5.00</li>');

    await refund(gw, games.apiKey, game.id, '1.20');
    const creditNote = await documentOf(ref, await billNow());
    expect(creditNote.type).toBe('credit_note');
    expect(creditNote.correctsInvoiceId).toBe(invoice.id);
    expect(creditNote.vatBreakdown).toEqual([{ rate: '0.20', base: '-1.00', vat: '-0.20' }]);
    const credited = itemOf((await browser.get('/me').query({ lang: 'fr' })).text, creditNote.id);
    expect(credited).toContain(`Avoir n°&nbsp;<span class="doc-number">${creditNote.number}</span>`);
    expect(credited).toContain(`Corrige la facture n°&nbsp;<span class="doc-number">${invoice.number}</span>`);
    expect(credited).toContain('<li>TVA 20\u00a0%\u00a0: -0,20\u00a0€ sur -1,00\u00a0€</li>');
  });
});

describe('The subscriber space tells a credit note from an invoice', () => {
  it('When a refund of a billed purchase is credited by the next run, then /me says the credit note comes off a bill or is refunded, in French and English, never that it is to be paid', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const bought = await buy(gw, publisher, token, { amount: '4.50', description: 'Le dossier du week-end' });
    expect(bought.res.status).toBe(200);
    const invoice = await documentOf(ref, await billNow());
    await refund(gw, publisher.apiKey, bought.id, '4.50');
    const creditNote = await documentOf(ref, await billNow());
    expect(creditNote.type).toBe('credit_note');

    const browser = gw.api();
    expect((await browser.get('/me').query({ assertion: token })).status).toBe(303);
    const statusOf = (page: string, id: string) =>
      /<span class="status [^"]*">([^<]*)<\/span>/.exec(itemOf(page, id))?.[1];
    const french = (await browser.get('/me').query({ lang: 'fr' })).text;
    expect(statusOf(french, creditNote.id)).toBe(
      'Émis\u00a0: votre opérateur le déduit de votre prochaine facture ou vous le rembourse',
    );
    expect(statusOf(french, invoice.id)).toBe('Émise, à régler avec votre facture');
    const english = (await browser.get('/me').query({ lang: 'en' })).text;
    expect(statusOf(english, creditNote.id)).toBe(
      'Issued: your operator takes it off your next bill or refunds it to you',
    );
    expect(statusOf(english, invoice.id)).toBe('Issued, to be paid with your bill');
  });
});

interface Document {
  id: string;
  number: string;
  type: string;
  correctsInvoiceId: string | null;
  subscriberRef: string;
  vatBreakdown: { rate: string; base: string; vat: string }[];
}

async function billNow(): Promise<string> {
  const posted = await postBillingRun(gw, operator);
  expect(posted.status).toBe(202);
  const id = posted.body.id as string;
  await waitForRun(gw, operator, id);
  return id;
}

/** The subscriber's document in that run, as the operator's API answers it. */
async function documentOf(ref: string, billingRunId: string): Promise<Document> {
  const res = await gw
    .api()
    .get('/v1/operator/invoices')
    .query({ billingRun: billingRunId, limit: 200 })
    .set(bearer(operator.apiKey));
  const found = (res.body.data as Document[]).find((d) => d.subscriberRef === ref);
  if (!found) throw new Error(`no document for ${ref}: ${JSON.stringify(res.body)}`);
  return found;
}

/** One document's entry in /me's list, up to the end of its lines. */
function itemOf(page: string, id: string): string {
  const start = page.indexOf(`id="invoice-${id}"`);
  expect(start).toBeGreaterThan(-1);
  const item = page.slice(start);
  return item.slice(0, item.indexOf('</dl></details>'));
}
