import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingHarness, postBillingRun, waitForRun, type BillingHarness } from './support/billing.js';
import {
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  provision,
  startTestGateway,
  type OperatorFixture,
  type PublisherFixture,
  type TestGateway,
} from './support/harness.js';

let gw: TestGateway;
let billing: BillingHarness;
let operator: OperatorFixture;
let publisher: PublisherFixture;

beforeAll(async () => {
  gw = startTestGateway();
  billing = billingHarness(gw);
  await billing.startWorker();
  operator = await createOperator(gw);
  publisher = await createPublisher(gw, { category: 'press' });
});
afterAll(async () => {
  await billing.close();
  await gw.close();
});

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
    const invoice = (invoices.body.data as { id: string; subscriberRef: string }[]).find(
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
    expect(section).toContain('Edition du jour');
    const purchaseOf = (html: string) => {
      const item = html.slice(html.indexOf(`id="purchase-${id}"`));
      return item.slice(0, item.indexOf('</li>'));
    };
    const invoiceOf = (html: string) => {
      const item = html.slice(html.indexOf(`id="invoice-${invoice.id}"`));
      return item.slice(0, item.indexOf('</li>'));
    };
    expect(purchaseOf(page.text)).toMatch(/Sur la facture du/);
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
});
