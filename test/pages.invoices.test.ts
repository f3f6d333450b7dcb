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
    const purchase = page.text.slice(page.text.indexOf(`id="purchase-${id}"`));
    expect(purchase.slice(0, purchase.indexOf('</li>'))).toMatch(/Sur la facture du/);
  });
});
