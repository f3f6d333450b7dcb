import type { Server } from 'node:http';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../src/shared/money.js';
import { formatterFor } from '../src/http/pages/format.js';
import type { Lang } from '../src/http/pages/i18n.js';
import { en } from '../src/http/pages/messages/en.js';
import { fr } from '../src/http/pages/messages/fr.js';
import { billingHarness, postBillingRun, waitForRun, type BillingHarness } from './support/billing.js';
import { checkPage, launchChromium } from './support/browser.js';
import {
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  createPurchase,
  idemKey,
  provision,
  startTestGateway,
  unique,
  type OperatorFixture,
  type PublisherFixture,
  type TestGateway,
} from './support/harness.js';
import { freePort } from './support/private-redis.js';
import {
  expirePurchase,
  storedPurchaseStatus,
  storedSubscriptionStatus,
  subscriberRow,
  subscriptionRow,
} from './support/rows.js';

/**
 * What a person sees on the pages, measured in Chromium at 320 px, 390 px and
 * on a desktop: amounts on one line, links that lead where they say, words
 * that say what is true. Every page visited is screenshotted and checked by axe.
 */
const PUBLISHER_SITE = 'https://courrier.example';
const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
/** Each flow visits several pages and runs axe on each, on a CPU shared with the rest of the suite. */
const BROWSER_TEST_TIMEOUT_MS = 240_000;

let gw: TestGateway;
let billing: BillingHarness;
let server: Server;
let browser: Browser;
let origin: string;
let operator: OperatorFixture;
let courrier: PublisherFixture;
/** "Le Courrier du Soir-…": French contracts "à le" into "au" before it. */
let courrierName: string;
let household: { holderRef: string; childRef: string; billedIds: string[] };

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  gw = startTestGateway({ publicUrl: origin });
  billing = billingHarness(gw);
  await billing.startWorker();
  server = gw.app.listen(port);
  browser = await launchChromium();
  operator = await createOperator(gw, { brand: 'Orange' });
  courrierName = unique('Le Courrier du Soir et des Régions de France');
  courrier = await createPublisher(gw, { name: courrierName, category: 'press', legalName: 'Courrier SA' });

  // A household billed once: two purchases on an issued invoice, then the child's purchase after it.
  const holderRef = await provision(gw, operator);
  const childRef = await provision(gw, operator, unique('child'), { holderRef, displayName: 'Léa' });
  const holderToken = assertion(operator, holderRef);
  const billedIds: string[] = [];
  for (const [amount, description] of [
    ['2.88', 'Le journal du jour, édition complète avec ses suppléments régionaux'],
    ['12.40', 'Les archives du mois de novembre'],
  ] as const) {
    const { id, res } = await buy(gw, courrier, holderToken, { amount, description });
    expect(res.status).toBe(200);
    billedIds.push(id);
  }
  const run = await postBillingRun(gw, operator);
  expect(run.status).toBe(202);
  await waitForRun(gw, operator, run.body.id as string);
  const controls = await gw
    .api()
    .put(`/v1/me/children/${childRef}/controls`)
    .set(bearer(holderToken))
    .send({ blocked: false, blockedCategories: ['games'], weekly: '10.00', monthly: null });
  expect(controls.status).toBe(200);
  const { res } = await buy(gw, courrier, assertion(operator, childRef), { amount: '3.50', description: 'Un article' });
  expect(res.status).toBe(200);
  household = { holderRef, childRef, billedIds };
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await billing?.close();
  await gw?.close();
});

const CONFIGS = [
  { name: 'w320-fr', viewport: { width: 320, height: 640 }, lang: 'fr', mobile: true },
  { name: 'w390-fr', viewport: { width: 390, height: 844 }, lang: 'fr', mobile: true },
  { name: 'w390-en', viewport: { width: 390, height: 844 }, lang: 'en', mobile: true },
  { name: 'desktop-fr', viewport: { width: 1280, height: 800 }, lang: 'fr', mobile: false },
] as const satisfies readonly {
  name: string;
  viewport: { width: number; height: number };
  lang: Lang;
  mobile: boolean;
}[];

async function visitor(
  config: (typeof CONFIGS)[number],
  userAgent?: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: config.viewport,
    locale: config.lang === 'fr' ? 'fr-FR' : 'en-GB',
    isMobile: config.mobile,
    hasTouch: config.mobile,
    ...(userAgent ? { userAgent } : {}),
  });
  // The publisher's site, answered here: a link back to it is followed without the network.
  await context.route(`${PUBLISHER_SITE}/**`, (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: '<!doctype html><html lang="fr"><title>Le Courrier</title><main><h1>Le Courrier</h1></main></html>',
    }),
  );
  return { context, page: await context.newPage() };
}

interface LineBox {
  text: string;
  heightPx: number;
  lineHeightPx: number;
  lines: number;
}

/** How each element lies on screen: its height against its line height, and on how many line boxes it is drawn. */
async function lineBoxes(locator: Locator): Promise<LineBox[]> {
  return locator.evaluateAll((elements) =>
    elements.map((e) => {
      const range = e.ownerDocument.createRange();
      range.selectNodeContents(e);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      return {
        text: e.textContent ?? '',
        heightPx: e.getBoundingClientRect().height,
        lineHeightPx: parseFloat(e.ownerDocument.defaultView?.getComputedStyle(e).lineHeight ?? 'NaN'),
        lines: tops.size,
      };
    }),
  );
}

function expectOneLine(boxes: LineBox[], what: string): void {
  expect(boxes.length, what).toBeGreaterThan(0);
  for (const box of boxes) {
    expect(box.lines, `${what} "${box.text}" on one line`).toBe(1);
    expect(box.heightPx, `${what} "${box.text}" no taller than its line`).toBeLessThanOrEqual(box.lineHeightPx + 0.5);
  }
}

/** Where a link leads, as the browser resolves it. */
async function target(link: Locator): Promise<URL> {
  const href = await link.getAttribute('href');
  if (href === null) throw new Error(`${link.toString()} has no href`);
  return new URL(href, link.page().url());
}

describe.each(CONFIGS)('What a person sees, $name', (config) => {
  const m = config.lang === 'fr' ? fr : en;
  const f = formatterFor(config.lang);
  const shot = (name: string) => `person-${config.name}-${name}`;

  it(
    'When a billed holder opens /me, then invoice amounts stay on one line, statuses say billed, and the footer and parent space lead where they say',
    async () => {
      const { context, page } = await visitor(config);
      await page.goto(`${origin}/me?assertion=${assertion(operator, household.holderRef)}`);
      const invoice = page.locator('#invoices').locator('..').locator('li').first();
      await invoice.locator('summary').click();
      expectOneLine(await lineBoxes(invoice.locator('dl.lines dd')), 'invoice line amount');
      expectOneLine(await lineBoxes(page.locator('.item-head .amount')), 'item amount');
      expectOneLine(await lineBoxes(invoice.locator('ul.vat-rates li')), 'VAT per rate');
      expectOneLine(await lineBoxes(invoice.locator('.doc-number')), 'document number');
      for (const id of household.billedIds) {
        await expect(page.locator(`#purchase-${id} .status`).innerText()).resolves.toBe(m.purchaseStatus.billed);
      }
      await expect(invoice.locator('.status').innerText()).resolves.toBe(m.invoiceStatus.issued);
      await checkPage(page, shot('me-invoice-open'));

      const footer = page.locator('footer');
      const help = footer.getByRole('link', { name: m.operatorHelpLink('Orange') });
      expect((await target(help)).pathname).toBe('/help');
      expect((await target(footer.getByRole('link', { name: m.termsLink }))).pathname).toBe('/legal/terms');
      expect((await target(footer.getByRole('link', { name: m.privacyLink }))).pathname).toBe('/legal/privacy');
      await Promise.all([page.waitForURL(`${origin}/help`), help.click()]);
      await expect(page.locator('h1').innerText()).resolves.toBe(m.helpTitle);
      await expect(page.locator('main').innerText()).resolves.toContain(m.helpOperator('Orange'));
      await checkPage(page, shot('help'));
      await Promise.all([
        page.waitForURL(`${origin}/legal/terms`),
        page.locator('footer').getByRole('link', { name: m.termsLink }).click(),
      ]);
      await expect(page.locator('h1').innerText()).resolves.toBe(m.termsTitle);
      await checkPage(page, shot('terms'));
      await Promise.all([
        page.waitForURL(`${origin}/legal/privacy`),
        page.locator('footer').getByRole('link', { name: m.privacyLink }).click(),
      ]);
      await expect(page.locator('h1').innerText()).resolves.toBe(m.privacyTitle);
      await checkPage(page, shot('privacy'));

      // The holder has a child: the parent space is offered, and shows what is true of her.
      await page.goto(`${origin}/me`);
      const parentLink = page.getByRole('link', { name: m.parentSpaceLink });
      expect((await target(parentLink)).pathname).toBe('/me/children');
      await Promise.all([page.waitForURL(`${origin}/me/children`), parentLink.click()]);
      const child = page.getByRole('region', { name: 'Léa' });
      const state = await child.locator('.meta').first().innerText();
      expect(state).toBe(m.childState.openExcept(m.category.games as string));
      expect(state).not.toBe(m.childState.open);
      const weekly = child.getByLabel(m.weeklyLimit);
      await expect(weekly.inputValue()).resolves.toBe(f.decimal(new Decimal('10')));
      const spent = await child.getByRole('definition').allInnerTexts();
      expect(spent).toContain(f.money('3.50'));
      await checkPage(page, shot('me-children'));
      // Saving the form as prefilled keeps the limit: the page's own decimal separator is read back.
      await Promise.all([
        page.waitForURL(/notice=controls_saved/),
        child.getByRole('button', { name: new RegExp(m.saveControls) }).click(),
      ]);
      const saved = await subscriberRow(gw, operator.id, household.childRef);
      expect(saved.limitWeekly?.toFixed(2)).toBe('10.00');
      expect(saved.blockedCategories).toEqual(['games']);
      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'When someone subscribes quarterly without a returnUrl, then the price keeps its unit on one line, the thanks repeat the renewal and how to cancel, and cancelling asks first and says until when',
    async () => {
      const ref = await provision(gw, operator);
      const created = await gw
        .api()
        .post('/v1/subscriptions')
        .set(bearer(courrier.apiKey))
        .set('Idempotency-Key', idemKey())
        .send({ plan: 'quarterly', amount: '14.99', description: 'Le Courrier chaque matin', channel: 'isp' });
      expect(created.status).toBe(201);
      const { id, consentUrl } = created.body as { id: string; consentUrl: string };
      const { context, page } = await visitor(config);
      await page.goto(`${consentUrl}?assertion=${assertion(operator, ref)}`);
      expectOneLine(await lineBoxes(page.locator('.price .period')), 'price unit');
      expectOneLine(await lineBoxes(page.locator('button .period')), 'button unit');
      await expect(page.getByRole('link', { name: m.cancelAndBack(courrierName) }).count()).resolves.toBe(0);
      await checkPage(page, shot('consent-quarterly'));
      await Promise.all([
        page.waitForURL(`${consentUrl}/confirm`),
        page.getByRole('button', { name: m.subscribeButton(f.money('14.99'), m.period.quarterly) }).click(),
      ]);
      const periodEnd = (await subscriptionRow(gw, id)).currentPeriodEnd as Date;
      const thanks = await page.locator('main').innerText();
      expect(thanks).toContain(
        m.subscribedSentence('Le Courrier chaque matin', courrierName, f.money('14.99'), m.period.quarterly),
      );
      expect(thanks).toContain(m.thanksRenewal(f.date(periodEnd)));
      expect(thanks).toContain(m.thanksHowToCancel);
      expect(thanks).toContain(m.reference(id));
      const manage = page.getByRole('link', { name: m.manageSubscriptions });
      expect((await target(manage)).pathname + (await target(manage)).hash).toBe('/me#subscriptions');
      await checkPage(page, shot('thanks-subscription'));

      await page.goto(`${origin}/me`);
      // No child: no parent space offered.
      await expect(page.getByRole('link', { name: m.parentSpaceLink }).count()).resolves.toBe(0);
      const item = page.locator(`#subscription-${id}`);
      expectOneLine(await lineBoxes(item.locator('.period')), 'subscription unit');
      await expect(item.innerText()).resolves.toContain(m.cancelHint(f.date(periodEnd)));
      const confirm = item.getByRole('button', { name: new RegExp(m.cancelConfirmButton) });
      await expect(confirm.isVisible()).resolves.toBe(false);
      await item.locator('summary', { hasText: m.cancelButton }).click();
      await checkPage(page, shot('me-cancel-asked'));
      expect(await storedSubscriptionStatus(gw, id)).toBe('active');
      await Promise.all([page.waitForURL(/notice=subscription_canceled/), confirm.click()]);
      await expect(page.getByRole('status').innerText()).resolves.toBe(
        m.canceledUntil('Le Courrier chaque matin', f.date(periodEnd)),
      );
      await expect(page.locator(`#subscription-${id}`).innerText()).resolves.toContain(
        m.accessUntil(f.date(periodEnd)),
      );
      await checkPage(page, shot('me-canceled'));
      expect(await storedSubscriptionStatus(gw, id)).toBe('canceled');
      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'When an offer has a returnUrl, then its consent page and its expired page lead back to the publisher, and the consent evidence reads as a sentence',
    async () => {
      const ref = await provision(gw, operator);
      const token = assertion(operator, ref);
      const returnUrl = `${PUBLISHER_SITE}/article?id=7`;
      const { context, page } = await visitor(config, ANDROID_CHROME);

      const open = await createPurchase(gw, courrier, { amount: '1.50', description: 'Un article', returnUrl });
      await page.goto(`${open.consentUrl}?assertion=${token}`);
      const back = page.getByRole('link', { name: m.cancelAndBack(courrierName) });
      expect((await target(back)).toString()).toBe(returnUrl);
      await checkPage(page, shot('consent-with-return'));
      await Promise.all([page.waitForURL(returnUrl), back.click()]);
      expect(await storedPurchaseStatus(gw, open.id)).toBe('pending');

      const late = await createPurchase(gw, courrier, { amount: '1.50', description: 'Un article', returnUrl });
      await expirePurchase(gw, late.id);
      const response = await page.goto(late.consentUrl);
      expect(response?.status()).toBe(410);
      await expect(page.locator('h1').innerText()).resolves.toBe(m.expiredTitle);
      await expect(page.locator('main').innerText()).resolves.toContain(m.nothingCharged);
      expect((await target(page.getByRole('link', { name: m.backTo(courrierName) }))).toString()).toBe(returnUrl);
      expect((await target(page.getByRole('link', { name: m.meLink }))).pathname).toBe('/me');
      await checkPage(page, shot('expired'));

      const paid = await createPurchase(gw, courrier, { amount: '2.88', description: 'Le journal du jour' });
      await page.goto(paid.consentUrl);
      await Promise.all([
        page.waitForURL(`${paid.consentUrl}/confirm`),
        page.getByRole('button', { name: m.payButton(f.money('2.88')) }).click(),
      ]);
      const thanks = await page.locator('main').innerText();
      expect(thanks).toContain(m.paidSentence(f.money('2.88'), courrierName, 'Le journal du jour'));
      expect(thanks).toContain(m.reference(paid.id));
      await page.goto(`${origin}/me`);
      const item = page.locator(`#purchase-${paid.id}`);
      await expect(item.locator('.status').innerText()).resolves.toBe(m.purchaseStatus.confirmed);
      await item.getByText(m.evidenceSummary).click();
      const evidence = item.locator('details.evidence');
      const summary = await evidence.innerText();
      expect(summary).toContain(m.deviceOn('Chrome', 'Android'));
      expect(summary).toContain(m.evidenceOperator('Orange'));
      expect(summary).toContain(m.evidenceAgreed(f.money('2.88'), courrierName, 'Le journal du jour'));
      expect(summary).not.toMatch(/::ffff|127\.0\.0\.1|Mozilla|consent-page-/);
      await item.getByText(m.evidenceRaw).click();
      const raw = await evidence.innerText();
      expect(raw).toContain(ANDROID_CHROME);
      expect(raw).toMatch(/127\.0\.0\.1/);
      await checkPage(page, shot('me-evidence'));
      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
