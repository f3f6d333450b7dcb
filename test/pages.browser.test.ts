import type { Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatterFor } from '../src/http/pages/format.js';
import type { Lang } from '../src/http/pages/i18n.js';
import { en } from '../src/http/pages/messages/en.js';
import { fr } from '../src/http/pages/messages/fr.js';
import { activate, checkPage, launchChromium, tick, typeInto, type InputMode } from './support/browser.js';
import {
  assertion,
  bearer,
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
  disputeOfPurchase,
  purchaseRow,
  storedPurchaseStatus,
  storedSubscriptionStatus,
  subscriptionRow,
} from './support/rows.js';

/**
 * The pages as a person uses them, in headless Chromium: on a phone and on a
 * desktop, in French and in English, by pointer on the phone and by keyboard
 * alone on the desktop. Every page visited is screenshotted and checked by axe.
 */
const PUBLISHER_SITE = 'https://gazette.example';
/** Each flow visits several pages and runs axe on each, on a CPU shared with the rest of the suite. */
const BROWSER_TEST_TIMEOUT_MS = 240_000;

let gw: TestGateway;
let server: Server;
let browser: Browser;
let origin: string;
let operator: OperatorFixture;
let press: PublisherFixture;
let pressName: string;

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  gw = startTestGateway({ publicUrl: origin });
  server = gw.app.listen(port);
  browser = await launchChromium();
  operator = await createOperator(gw);
  pressName = unique('La Gazette');
  press = await createPublisher(gw, {
    name: pressName,
    category: 'press',
    legalName: 'La Gazette SAS',
    supportUrl: `${PUBLISHER_SITE}/aide`,
  });
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await gw?.close();
});

const CONFIGS = [
  { name: 'phone-fr', viewport: { width: 390, height: 844 }, lang: 'fr', mode: 'pointer', mobile: true },
  { name: 'phone-en', viewport: { width: 390, height: 844 }, lang: 'en', mode: 'pointer', mobile: true },
  { name: 'desktop-fr', viewport: { width: 1280, height: 800 }, lang: 'fr', mode: 'keyboard', mobile: false },
  { name: 'desktop-en', viewport: { width: 1280, height: 800 }, lang: 'en', mode: 'keyboard', mobile: false },
] as const satisfies readonly {
  name: string;
  viewport: { width: number; height: number };
  lang: Lang;
  mode: InputMode;
  mobile: boolean;
}[];

/**
 * A browser as a subscriber's: its language, its size, and a publisher site
 * (intercepted, never on the network) whose buy link carries the operator's
 * assertion. Playwright does not intercept redirects, so the way back to the
 * publisher is seen as the browser's request for it.
 */
async function visitor(config: (typeof CONFIGS)[number]): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: config.viewport,
    locale: config.lang === 'fr' ? 'fr-FR' : 'en-GB',
    isMobile: config.mobile,
    hasTouch: config.mobile,
  });
  await context.route(`${PUBLISHER_SITE}/**`, async (route) => {
    const url = new URL(route.request().url());
    const link = url.searchParams.get('go');
    const body = link
      ? `<!doctype html><html lang="fr"><title>La Gazette</title><main><a href="${link}">Acheter</a></main></html>`
      : '<!doctype html><html lang="fr"><title>La Gazette</title><main><h1>La Gazette</h1></main></html>';
    await route.fulfill({ status: 200, contentType: 'text/html', body });
  });
  return { context, page: await context.newPage() };
}

/** Click one happens on the publisher's site: its buy link, to which the operator's portal added the assertion. */
function publisherPage(consentUrl: string, token: string): string {
  return `${PUBLISHER_SITE}/?go=${encodeURIComponent(`${consentUrl}?assertion=${token}`)}`;
}

/**
 * The way back to the publisher: a redirect, which Playwright does not
 * intercept, so the browser's request for it fails offline; its address is what counts.
 */
async function returnedTo(page: Page, path: string): Promise<URL> {
  const failed = await page.waitForEvent('requestfailed', (request) =>
    request.url().startsWith(`${PUBLISHER_SITE}${path}`),
  );
  return new URL(failed.url());
}

async function subscription(publisher: PublisherFixture, body: Record<string, unknown> = {}) {
  const res = await gw
    .api()
    .post('/v1/subscriptions')
    .set(bearer(publisher.apiKey))
    .set('Idempotency-Key', idemKey())
    .send({ plan: 'monthly', amount: '4.99', description: 'La Gazette tous les matins', channel: 'isp', ...body });
  expect(res.status).toBe(201);
  return res.body as { id: string; consentUrl: string };
}

describe.each(CONFIGS)('Pages for people, $name', (config) => {
  const m = config.lang === 'fr' ? fr : en;
  const f = formatterFor(config.lang);
  const shot = (name: string) => `${config.name}-${name}`;

  it(
    'When a subscriber buys an article in two clicks, then the publisher gets them back with the confirmed purchase',
    async () => {
      const ref = await provision(gw, operator);
      const { id, consentUrl } = await createPurchase(gw, press, {
        amount: '2.88',
        description: 'Le journal du jour',
        returnUrl: `${PUBLISHER_SITE}/merci`,
      });
      const visit = await visitor(config);
      const { context } = visit;
      let { page } = visit;
      await page.goto(publisherPage(consentUrl, assertion(operator, ref)));
      await Promise.all([
        page.waitForURL(consentUrl),
        activate(page, page.getByRole('link', { name: 'Acheter' }), config.mode),
      ]);
      expect(await page.getAttribute('html', 'lang')).toBe(config.lang);
      const text = await page.locator('body').innerText();
      expect(text).toContain(f.money('2.88'));
      expect(text).toContain(m.vatIncluded);
      expect(text).toContain(m.soldBy('La Gazette SAS'));
      await checkPage(page, shot('consent-purchase'));
      const pay = page.getByRole('button', { name: m.payButton(f.money('2.88')) });
      if (config.mobile) {
        const box = await pay.boundingBox();
        expect((box?.y ?? Infinity) + (box?.height ?? 0)).toBeLessThanOrEqual(config.viewport.height);
      }
      const [back] = await Promise.all([returnedTo(page, '/merci?'), activate(page, pay, config.mode)]);
      expect(back?.pathname).toBe('/merci');
      expect(back?.searchParams.get('kiosque_purchase')).toBe(id);
      expect(back?.searchParams.get('kiosque_status')).toBe('confirmed');
      const row = await purchaseRow(gw, id);
      expect(row.status).toBe('confirmed');
      expect(row.consentUserAgent).toContain('Chrome');

      // Opening a dispute on it from /me, where its evidence then shows.
      // A fresh tab of the same browser: the failed way back may still be committing its error page in the first.
      page = await context.newPage();
      await page.goto(`${origin}/me`);
      await checkPage(page, shot('me'));
      const item = page.locator(`#purchase-${id}`);
      await activate(page, item.getByText(m.disputeSummary), config.mode);
      await typeInto(page, item.getByLabel(m.disputeReason), 'Je ne reçois pas le journal', config.mode);
      await Promise.all([
        page.waitForURL(/notice=dispute_opened/),
        activate(page, item.getByRole('button', { name: m.disputeButton }), config.mode),
      ]);
      const dispute = page.locator('#disputes').locator('..').locator('li').first();
      await expect(dispute.innerText()).resolves.toContain('Je ne reçois pas le journal');
      await activate(page, dispute.getByText(m.evidenceSummary), config.mode);
      const evidence = dispute.locator('details.evidence');
      await expect(evidence.innerText()).resolves.toContain(m.deviceOn('Chrome', 'Linux'));
      await expect(evidence.innerText()).resolves.not.toContain(row.consentAssertionId);
      await activate(page, dispute.getByText(m.evidenceRaw), config.mode);
      await expect(evidence.innerText()).resolves.toContain(row.consentAssertionId);
      await checkPage(page, shot('me-dispute-opened'));
      expect((await disputeOfPurchase(gw, id)).status).toBe('open');
      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'When a subscriber subscribes, then cancels from /me, then the subscription is canceled and the page says so',
    async () => {
      const ref = await provision(gw, operator);
      const { id, consentUrl } = await subscription(press, { returnUrl: `${PUBLISHER_SITE}/abonne` });
      const visit = await visitor(config);
      const { context } = visit;
      let { page } = visit;
      await page.goto(publisherPage(consentUrl, assertion(operator, ref)));
      await Promise.all([
        page.waitForURL(consentUrl),
        activate(page, page.getByRole('link', { name: 'Acheter' }), config.mode),
      ]);
      const text = await page.locator('body').innerText();
      expect(text).toContain(m.renewsByItself(m.everyPeriod.monthly));
      expect(text).toContain(m.howToCancel);
      await checkPage(page, shot('consent-subscription'));
      const subscribe = page.getByRole('button', { name: m.subscribeButton(f.money('4.99'), m.period.monthly) });
      const [returned] = await Promise.all([returnedTo(page, '/abonne?'), activate(page, subscribe, config.mode)]);
      expect(returned.searchParams.get('kiosque_subscription')).toBe(id);
      expect(returned.searchParams.get('kiosque_status')).toBe('confirmed');

      // A fresh tab of the same browser: the failed way back may still be committing its error page in the first.
      page = await context.newPage();
      await page.goto(`${origin}/me`);
      const item = page.locator(`#subscription-${id}`);
      await expect(item.innerText()).resolves.toContain(m.subscriptionStatus.active);
      // Cancelling asks first: the button that cancels appears only once the person asked to cancel.
      await expect(item.getByRole('button', { name: new RegExp(m.cancelConfirmButton) }).isVisible()).resolves.toBe(
        false,
      );
      await activate(page, item.locator('summary', { hasText: m.cancelButton }), config.mode);
      await Promise.all([
        page.waitForURL(/notice=subscription_canceled/),
        activate(page, item.getByRole('button', { name: new RegExp(m.cancelConfirmButton) }), config.mode),
      ]);
      const periodEnd = (await subscriptionRow(gw, id)).currentPeriodEnd as Date;
      await expect(page.getByRole('status').innerText()).resolves.toBe(
        m.canceledUntil('La Gazette tous les matins', f.date(periodEnd)),
      );
      await expect(page.locator(`#subscription-${id}`).innerText()).resolves.toContain(m.subscriptionStatus.canceled);
      await checkPage(page, shot('me-subscription-canceled'));
      expect(await storedSubscriptionStatus(gw, id)).toBe('canceled');
      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    "When a parent blocks a category for a child, then the child's next consent page says it is blocked and has no pay button",
    async () => {
      const holderRef = await provision(gw, operator);
      const childRef = await provision(gw, operator, unique('child'), { holderRef, displayName: 'Léa' });
      const parent = await visitor(config);
      await parent.page.goto(`${origin}/me/children?assertion=${assertion(operator, holderRef)}`);
      await checkPage(parent.page, shot('me-children'));
      const child = parent.page.getByRole('region', { name: 'Léa' });
      await tick(parent.page, child.getByLabel(m.category.press as string), config.mode);
      await Promise.all([
        parent.page.waitForURL(/notice=controls_saved/),
        activate(parent.page, child.getByRole('button', { name: new RegExp(m.saveControls) }), config.mode),
      ]);
      await expect(parent.page.getByRole('status').innerText()).resolves.toBe(m.notice.controls_saved);
      expect(
        await parent.page
          .getByRole('region', { name: 'Léa' })
          .getByLabel(m.category.press as string)
          .isChecked(),
      ).toBe(true);
      await checkPage(parent.page, shot('me-children-saved'));
      await parent.context.close();

      const { id, consentUrl } = await createPurchase(gw, press, {
        amount: '1.50',
        description: 'Un article',
        returnUrl: `${PUBLISHER_SITE}/article`,
      });
      const kid = await visitor(config);
      await kid.page.goto(`${consentUrl}?assertion=${assertion(operator, childRef)}`);
      const alert = kid.page.getByRole('alert');
      await expect(alert.innerText()).resolves.toContain(m.forecast.category_blocked(m.category.press as string));
      expect(await kid.page.getByRole('button').count()).toBe(0);
      await checkPage(kid.page, shot('consent-blocked'));
      await Promise.all([
        kid.page.waitForURL(`${PUBLISHER_SITE}/article`),
        activate(kid.page, alert.getByRole('link', { name: m.backTo(pressName) }), config.mode),
      ]);
      expect(await storedPurchaseStatus(gw, id)).toBe('pending');

      // The child has no parent space.
      await kid.page.goto(`${origin}/me/children`);
      await expect(kid.page.locator('h1').innerText()).resolves.toBe(m.notHolderTitle);
      await checkPage(kid.page, shot('me-children-forbidden'));
      await kid.context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'When a page is opened without signing in, or after a purchase without a returnUrl, then it says what to do next',
    async () => {
      const { context, page } = await visitor(config);
      const response = await page.goto(`${origin}/me`);
      expect(response?.status()).toBe(401);
      await expect(page.locator('h1').innerText()).resolves.toBe(m.signInTitle);
      await checkPage(page, shot('sign-in'));
      const ref = await provision(gw, operator);
      const { consentUrl } = await createPurchase(gw, press, {
        amount: '0.99',
        description: 'Une grille de mots croisés',
      });
      await page.goto(`${consentUrl}?assertion=${assertion(operator, ref)}`);
      await Promise.all([
        page.waitForURL(`${consentUrl}/confirm`),
        activate(page, page.getByRole('button', { name: m.payButton(f.money('0.99')) }), config.mode),
      ]);
      await expect(page.locator('h1').innerText()).resolves.toBe(m.thanksTitle);
      await expect(page.locator('main').innerText()).resolves.toContain(
        m.paidSentence(f.money('0.99'), pressName, 'Une grille de mots croisés'),
      );
      await expect(page.locator('main').innerText()).resolves.toContain(m.onNextBill(operator.brand));
      const purchaseId = new URL(consentUrl).pathname.split('/').pop() as string;
      await expect(page.locator('main').innerText()).resolves.toContain(m.reference(purchaseId));
      await checkPage(page, shot('thanks'));
      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
