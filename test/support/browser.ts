import { existsSync, mkdirSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's Chromium, never a browser download; CHROMIUM_PATH points elsewhere when needed. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = 'test-artifacts/pages';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's chromium package (as .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Names other than localhost never resolve: a test page cannot reach the network.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  });
}

export type InputMode = 'pointer' | 'keyboard';

/** Moves focus with Tab alone until `target` has it, as a keyboard user would. */
export async function tabTo(page: Page, target: Locator, maxPresses = 80): Promise<void> {
  for (let i = 0; i < maxPresses; i++) {
    await page.keyboard.press('Tab');
    // Runs in the page: the element's own document says whether it has the focus.
    if (await target.evaluate((element) => element === element.ownerDocument.activeElement)) return;
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

/** Follows a link or presses a button, by pointer or by keyboard (Tab, then Enter). */
export async function activate(page: Page, target: Locator, mode: InputMode): Promise<void> {
  if (mode === 'pointer') return target.click();
  await tabTo(page, target);
  await page.keyboard.press('Enter');
}

/** Ticks a checkbox, by pointer or by keyboard (Tab, then Space). */
export async function tick(page: Page, target: Locator, mode: InputMode): Promise<void> {
  if (mode === 'pointer') return target.check();
  await tabTo(page, target);
  await page.keyboard.press('Space');
  expect(await target.isChecked()).toBe(true);
}

/** Types into a field, reached by pointer or by keyboard. */
export async function typeInto(page: Page, target: Locator, text: string, mode: InputMode): Promise<void> {
  if (mode === 'pointer') return target.fill(text);
  await tabTo(page, target);
  await page.keyboard.type(text);
}

/** Saves the page as an artifact and asserts that axe finds no accessibility violation on it. */
export async function checkPage(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
  const results = await new AxeBuilder({ page }).analyze();
  const violations = results.violations.map((v) => ({
    id: v.id,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }));
  expect(violations, `axe on ${name}`).toEqual([]);
  const overflowPx = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflowPx, `horizontal scroll on ${name}`).toBeLessThanOrEqual(0);
}
