import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/harness.js';
import { freePort } from './support/private-redis.js';

/** /docs in a real headless Chromium: the reference renders from the gateway alone, under its CSP. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let gw: TestGateway;
let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's chromium package or set CHROMIUM_PATH`);
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  gw = startTestGateway({ publicUrl: origin });
  server = gw.app.listen(port);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server.close(resolve));
  await gw.close();
});

describe('GET /docs in a browser', () => {
  it('When opened, then every operation and webhook is listed, nothing is fetched from another origin and the CSP blocks nothing', async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${origin}/docs`);
    await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
    const listed = await page.locator('.opblock').count();
    const document = (await (await fetch(`${origin}/openapi.json`)).json()) as {
      paths: Record<string, object>;
      webhooks: Record<string, object>;
    };
    const count = (items: Record<string, object>) =>
      Object.values(items).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(Object.keys(document.webhooks).length).toBeGreaterThanOrEqual(12);
    // Swagger UI lists each path operation and each webhook as one block.
    expect(listed).toBe(count(document.paths) + count(document.webhooks));
    expect(requested.filter((url) => !url.startsWith(origin))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
