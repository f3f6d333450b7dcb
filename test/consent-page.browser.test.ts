import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertion,
  createOperator,
  createPublisher,
  createPurchase,
  provision,
  startTestGateway,
  type TestGateway,
} from './support/harness.js';
import { launchChromium } from './support/browser.js';
import { freePort } from './support/private-redis.js';
import { purchaseRow, storedPurchaseStatus } from './support/rows.js';

/**
 * The consent page in a real (headless) Chromium at a phone's size: the two
 * clicks a subscriber makes, and the clickjacking defence as a browser applies it.
 */
const PHONE = { width: 375, height: 667 };

let gw: TestGateway;
let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  gw = startTestGateway({ publicUrl: origin });
  server = gw.app.listen(port);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server.close(resolve));
  await gw.close();
});

async function pendingPurchase(description: string) {
  const operator = await createOperator(gw);
  const publisher = await createPublisher(gw, { name: 'La Gazette' });
  const ref = await provision(gw, operator);
  const { id, consentUrl } = await createPurchase(gw, publisher, { amount: '2.88', description });
  return { id, consentUrl, token: assertion(operator, ref), brand: operator.brand };
}

describe('The consent page on a phone', () => {
  it('When a subscriber opens the link and taps confirm, then the page fits the screen and the purchase is confirmed', async () => {
    const { id, consentUrl, token, brand } = await pendingPurchase('Edition du jour');
    const context = await browser.newContext({
      locale: 'fr-FR',
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const page = await context.newPage();
    await page.goto(`${consentUrl}?assertion=${token}`);
    expect(page.url()).toBe(consentUrl);
    await expect(page.locator('h1').textContent()).resolves.toBe('Edition du jour');
    const text = await page.locator('body').innerText();
    expect(text).toContain('2,88\u00a0€');
    expect(text).toContain(brand);
    expect(text).toContain('Kiosque');
    // A string, not a function: this runs in the page, and the project's types have no DOM.
    const overflowPx = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflowPx).toBeLessThanOrEqual(0);
    const button = page.getByRole('button', { name: /Confirmer et payer 2,88/ });
    const box = await button.boundingBox();
    expect(box).not.toBeNull();
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(PHONE.height);
    expect(box?.width ?? 0).toBeGreaterThan(PHONE.width / 2);
    await Promise.all([page.waitForURL(`${consentUrl}/confirm`), button.tap()]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Merci');
    const row = await purchaseRow(gw, id);
    expect(row.status).toBe('confirmed');
    expect(row.consentUserAgent).toContain('Chrome');
    await context.close();
  });

  it('When another site frames the consent page, then the browser refuses to render it', async () => {
    const { id, consentUrl, token } = await pendingPurchase('Framed');
    const context = await browser.newContext({ locale: 'fr-FR', viewport: PHONE });
    const page = await context.newPage();
    await page.goto(`${consentUrl}?assertion=${token}`);
    // The attacker's page, on another site (localhost vs 127.0.0.1) of the same machine.
    const attacker = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(`<iframe src="${consentUrl}" width="375" height="600"></iframe>`);
    });
    const attackerPort = await freePort();
    await new Promise<void>((resolve) => attacker.listen(attackerPort, resolve));
    try {
      await page.goto(`http://localhost:${attackerPort}/`);
      await page.waitForTimeout(1000);
    } finally {
      attacker.close();
    }
    const frame = page.frames().find((f) => f !== page.mainFrame());
    // A frame Chromium refused to render (frame-ancestors / X-Frame-Options) is left on its error page.
    expect(frame?.url()).toMatch(/^chrome-error:/);
    expect(await storedPurchaseStatus(gw, id)).toBe('pending');
    await context.close();
  });
});
