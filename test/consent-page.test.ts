import type supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  assertion,
  bearer,
  createOperator,
  createPurchase,
  provision,
  startTestGateway,
  unique,
} from './support/harness.js';
import { expirePurchase, setOperatorPerPurchaseLimit } from './support/rows.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw);
const publisherName = unique('Le Quotidien');
const publisher = usePublisher(gw, { name: publisherName });

const pathOf = (consentUrl: string) => new URL(consentUrl).pathname;

function setCookies(res: supertest.Response): string[] {
  const raw = res.headers['set-cookie'] as string[] | string | undefined;
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw];
}

function sessionCookie(res: supertest.Response): string | undefined {
  return setCookies(res).find((c) => c.startsWith('kiosque_session='));
}

function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`no csrf field in page: ${html}`);
  return token;
}

/** A browser that brought its assertion once and now holds the session cookie. */
async function signedInBrowser(path: string, token: string): Promise<supertest.Agent> {
  const browser = gw.api();
  const res = await browser.get(path).query({ assertion: token });
  expect(res.status).toBe(303);
  return browser;
}

async function statusOf(id: string): Promise<string> {
  const res = await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey));
  return res.body.status;
}

describe('GET /consent/purchases/:id: bringing the assertion', () => {
  it('When the assertion comes in the query, then an HttpOnly SameSite=Lax cookie is set and the browser is sent to the URL without it', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createPurchase(gw, publisher);
    const path = pathOf(consentUrl);
    const res = await gw
      .api()
      .get(path)
      .query({ assertion: assertion(operator, ref), lang: 'fr' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`${path}?lang=fr`);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
    expect(cookie).not.toMatch(/;\s*Secure/i);
  });

  it('When the public URL is https, then the session cookie is Secure', async () => {
    const secureGw = startTestGateway({ publicUrl: 'https://kiosque.example' });
    try {
      const ref = await provision(secureGw, operator);
      const { consentUrl } = await createPurchase(secureGw, publisher);
      const res = await secureGw
        .api()
        .get(pathOf(consentUrl))
        .query({ assertion: assertion(operator, ref) });
      expect(res.status).toBe(303);
      expect(sessionCookie(res)).toMatch(/;\s*Secure/i);
    } finally {
      await secureGw.close();
    }
  });

  it('When the gateway runs in production, then the session cookie is Secure even behind an http public URL', async () => {
    const prodGw = startTestGateway({ production: true });
    try {
      const ref = await provision(prodGw, operator);
      const { consentUrl } = await createPurchase(prodGw, publisher);
      const res = await prodGw
        .api()
        .get(pathOf(consentUrl))
        .query({ assertion: assertion(operator, ref) });
      expect(res.status).toBe(303);
      expect(sessionCookie(res)).toMatch(/;\s*Secure/i);
    } finally {
      await prodGw.close();
    }
  });

  it('When the assertion is forged, then the answer is 401 HTML and no cookie is set', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createPurchase(gw, publisher);
    const forged = assertion({ id: operator.id, assertionSecret: 'not-the-operator-secret' }, ref);
    for (const token of [forged, 'not-a-jwt']) {
      const res = await gw.api().get(pathOf(consentUrl)).query({ assertion: token });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(sessionCookie(res)).toBeUndefined();
    }
  });

  it('When no assertion and no cookie come, then the page is 401 HTML', async () => {
    const { consentUrl } = await createPurchase(gw, publisher);
    const res = await gw.api().get(pathOf(consentUrl));
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).not.toContain('name="csrf"');
  });

  it('When the assertion comes as a Bearer header, then the page renders at once and the cookie is set', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createPurchase(gw, publisher);
    const res = await gw
      .api()
      .get(pathOf(consentUrl))
      .set(bearer(assertion(operator, ref)));
    expect(res.status).toBe(200);
    expect(res.text).toContain('name="csrf"');
    expect(sessionCookie(res)).toMatch(/;\s*HttpOnly/i);
  });
});

describe('GET /consent/purchases/:id: the page', () => {
  it('When a signed-in subscriber opens it, then it is phone-ready HTML that cannot be framed', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createPurchase(gw, publisher);
    const browser = await signedInBrowser(pathOf(consentUrl), assertion(operator, ref));
    const res = await browser.get(pathOf(consentUrl));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.text).toMatch(/<meta name="viewport" content="width=device-width[^"]*"/);
  });

  it('When it renders, then it shows the publisher, description, price, operator brand beside Kiosque and the remaining budget', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const spent = await createPurchase(gw, publisher, { amount: '10.25' });
    expect((await gw.api().post(`/v1/purchases/${spent.id}/confirm`).set(bearer(token))).status).toBe(200);
    const { consentUrl } = await createPurchase(gw, publisher, { amount: '2.88', description: 'Le journal du jour' });
    const browser = await signedInBrowser(pathOf(consentUrl), token);
    const res = await browser.get(pathOf(consentUrl));
    expect(res.status).toBe(200);
    expect(res.text).toContain(publisherName);
    expect(res.text).toContain('Le journal du jour');
    expect(res.text).toContain('2,88\u00a0€ <span class="ttc">TTC</span>');
    expect(res.text).toContain(operator.brand);
    expect(res.text).toContain('Kiosque');
    // Default limits 60.00 weekly and 150.00 monthly, less the 10.25 spent.
    expect(res.text).toContain('49,75\u00a0€');
    expect(res.text).toContain('139,75\u00a0€');
  });

  it('When it renders, then it has exactly one form with one submit button and a hidden csrf field', async () => {
    const ref = await provision(gw, operator);
    const { id, consentUrl } = await createPurchase(gw, publisher);
    const browser = await signedInBrowser(pathOf(consentUrl), assertion(operator, ref));
    const res = await browser.get(pathOf(consentUrl));
    expect(res.text.match(/<form\b/g)).toHaveLength(1);
    expect(res.text.match(/<button\b/g)).toHaveLength(1);
    expect(res.text).toMatch(/<button type="submit">/);
    expect(res.text).toMatch(/<form method="post" action="\/consent\/purchases\/[^"]+\/confirm">/);
    expect(res.text).toContain(`/consent/purchases/${id}/confirm`);
    expect(res.text).toMatch(/<input type="hidden" name="csrf" value="[^"]+">/);
  });

  it('When the description holds markup, quotes and ampersands, then they are escaped and the raw tag never appears', async () => {
    const ref = await provision(gw, operator);
    const description = `<script>alert(1)</script> "Tom" & 'Jerry'`;
    const { consentUrl } = await createPurchase(gw, publisher, { description });
    const browser = await signedInBrowser(pathOf(consentUrl), assertion(operator, ref));
    const res = await browser.get(pathOf(consentUrl));
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<script>');
    expect(res.text).not.toContain(`"Tom"`);
    expect(res.text).toContain('&#60;script&#62;alert(1)&#60;/script&#62; &#34;Tom&#34; &#38; &#39;Jerry&#39;');
  });

  it("When another subscriber's purchase is opened, then the page is 404 HTML", async () => {
    const owner = assertion(operator, await provision(gw, operator));
    const { id, consentUrl } = await createPurchase(gw, publisher);
    expect((await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(owner))).status).toBe(200);
    const stranger = await signedInBrowser(pathOf(consentUrl), assertion(operator, await provision(gw, operator)));
    const res = await stranger.get(pathOf(consentUrl));
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).not.toContain('name="csrf"');
  });

  it('When the purchase does not exist, then the page is 404 HTML', async () => {
    const browser = gw.api();
    const res = await browser
      .get('/consent/purchases/pur_doesnotexist')
      .set(bearer(assertion(operator, await provision(gw, operator))));
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
  });

  it('When the purchase has expired, then the page is 410 HTML', async () => {
    const ref = await provision(gw, operator);
    const { id, consentUrl } = await createPurchase(gw, publisher);
    await expirePurchase(gw, id);
    const browser = await signedInBrowser(pathOf(consentUrl), assertion(operator, ref));
    const res = await browser.get(pathOf(consentUrl));
    expect(res.status).toBe(410);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).not.toContain('name="csrf"');
  });
});

describe('POST /consent/purchases/:id/confirm: click two', () => {
  it("When the subscriber submits the page's form, then the purchase is confirmed", async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const { id, consentUrl } = await createPurchase(gw, publisher, { amount: '3.10' });
    const browser = await signedInBrowser(pathOf(consentUrl), token);
    const csrf = csrfOf((await browser.get(pathOf(consentUrl))).text);
    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Vous avez payé 3,10\u00a0€');
    const read = await gw.api().get(`/v1/purchases/${id}`).set(bearer(token));
    expect(read.body).toMatchObject({ id, status: 'confirmed', amount: '3.10' });
  });

  it('When the csrf token is missing or forged, then it is 403 and the purchase stays pending', async () => {
    const ref = await provision(gw, operator);
    const { id, consentUrl } = await createPurchase(gw, publisher);
    const browser = await signedInBrowser(pathOf(consentUrl), assertion(operator, ref));
    const csrf = csrfOf((await browser.get(pathOf(consentUrl))).text);
    const forged = `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`;
    for (const form of [{}, { csrf: '' }, { csrf: forged }]) {
      const res = await browser
        .post(`${pathOf(consentUrl)}/confirm`)
        .type('form')
        .send(form);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    }
    expect(await statusOf(id)).toBe('pending');
  });

  it("When the csrf token comes from another purchase's page, then it is 403 and the purchase stays pending", async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const first = await createPurchase(gw, publisher);
    const second = await createPurchase(gw, publisher);
    const browser = await signedInBrowser(pathOf(first.consentUrl), token);
    const firstCsrf = csrfOf((await browser.get(pathOf(first.consentUrl))).text);
    await browser.get(pathOf(second.consentUrl));
    const res = await browser
      .post(`${pathOf(second.consentUrl)}/confirm`)
      .type('form')
      .send({ csrf: firstCsrf });
    expect(res.status).toBe(403);
    expect(await statusOf(second.id)).toBe('pending');
    expect(await statusOf(first.id)).toBe('pending');
  });

  it('When the form is posted without the session cookie, then it is 403 and the purchase stays pending', async () => {
    const ref = await provision(gw, operator);
    const { id, consentUrl } = await createPurchase(gw, publisher);
    const browser = await signedInBrowser(pathOf(consentUrl), assertion(operator, ref));
    const csrf = csrfOf((await browser.get(pathOf(consentUrl))).text);
    // A cross-site form post: a fresh agent carries no cookie.
    const res = await gw
      .api()
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf });
    expect(res.status).toBe(403);
    expect(await statusOf(id)).toBe('pending');
  });

  it('When the confirmation is declined, then the page is 402 HTML and the purchase is declined with its code', async () => {
    const strict = await createOperator(gw, { limits: { perPurchase: '3.00', weekly: '60.00', monthly: '150.00' } });
    const ref = await provision(gw, strict);
    const { id, consentUrl } = await createPurchase(gw, publisher, { amount: '2.00' });
    const browser = await signedInBrowser(pathOf(consentUrl), assertion(strict, ref));
    const csrf = csrfOf((await browser.get(pathOf(consentUrl))).text);
    // The operator lowers its limit between the page and the click: the click itself is declined.
    await setOperatorPerPurchaseLimit(gw, strict.id, '1.00');
    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf });
    expect(res.status).toBe(402);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Ce prix dépasse le plafond par achat de votre compte.');
    const read = await gw.api().get(`/v1/purchases/${id}`).set(bearer(publisher.apiKey));
    expect(read.body).toMatchObject({ status: 'declined', declineCode: 'per_purchase_limit' });
  });

  it('When the purchase expires between the page and the click, then the confirmation is 410 HTML and it is not confirmed', async () => {
    const ref = await provision(gw, operator);
    const { id, consentUrl } = await createPurchase(gw, publisher);
    const browser = await signedInBrowser(pathOf(consentUrl), assertion(operator, ref));
    const csrf = csrfOf((await browser.get(pathOf(consentUrl))).text);
    await expirePurchase(gw, id);
    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf });
    expect(res.status).toBe(410);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(await statusOf(id)).toBe('expired');
  });

  it('When the consent page answers, then the confirmation too cannot be framed', async () => {
    const res = await gw.api().post('/consent/purchases/pur_x/confirm').type('form').send({ csrf: 'x' });
    expect(res.status).toBe(403);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
  });
});
