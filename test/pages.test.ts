import type supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { nextPeriodEnd } from '../src/domain/plan-periods.js';
import { en } from '../src/http/pages/messages/en.js';
import { fr } from '../src/http/pages/messages/fr.js';
import {
  admin,
  assertion,
  bearer,
  buy,
  createOperator,
  createPurchase,
  idemKey,
  provision,
  unique,
} from './support/harness.js';
import {
  disputeOfPurchase,
  expirePurchase,
  setOperatorPerPurchaseLimit,
  storedPurchaseStatus,
  storedSubscriptionStatus,
  subscriberRow,
  subscriptionRow,
} from './support/rows.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw);
const publisherName = unique('La Gazette');
const publisher = usePublisher(gw, {
  name: publisherName,
  legalName: 'La Gazette SAS',
  supportUrl: 'https://gazette.example/aide',
});

const pathOf = (url: string) => new URL(url).pathname;
const NBSP = '\u00a0';

function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`no csrf field in page: ${html}`);
  return token;
}

async function signedIn(path: string, token: string, headers: Record<string, string> = {}): Promise<supertest.Agent> {
  const browser = gw.api();
  const res = await browser.get(path).set(headers).query({ assertion: token });
  expect(res.status).toBe(303);
  return browser;
}

/** The text a person reads: tags dropped, entities of the escaper decoded. */
function visibleText(html: string): string {
  return html
    .replace(/<head>[\s\S]*<\/head>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/[ \t\n]+/g, ' ');
}

/** Every plain English sentence of the catalogue that differs from its French twin. */
function englishStrings(): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown) => {
    if (typeof a === 'string' && typeof b === 'string') {
      if (a !== b && a.length > 3) out.push(a);
    } else if (a && typeof a === 'object' && b && typeof b === 'object') {
      for (const key of Object.keys(a)) walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]);
    }
  };
  walk(en, fr);
  return out;
}

async function createSubscription(body: Record<string, unknown> = {}) {
  const res = await gw
    .api()
    .post('/v1/subscriptions')
    .set(bearer(publisher.apiKey))
    .set('Idempotency-Key', idemKey())
    .send({ plan: 'monthly', amount: '4.99', description: 'La Gazette, chaque matin', channel: 'isp', ...body });
  expect(res.status).toBe(201);
  return res.body as { id: string; consentUrl: string };
}

describe('Languages of the pages', () => {
  it('When nothing asks for a language, then the consent page is French, with French amounts, TTC and no English sentence', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createPurchase(gw, publisher, { amount: '2.88', description: 'Le journal du jour' });
    const browser = await signedIn(pathOf(consentUrl), assertion(operator, ref));
    const res = await browser.get(pathOf(consentUrl));
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="fr">');
    expect(res.headers['content-language']).toBe('fr');
    const text = visibleText(res.text);
    expect(text).toContain(`Confirmer et payer 2,88${NBSP}€`);
    expect(text).toContain('TTC');
    const leaks = englishStrings().filter((s) => text.includes(s));
    expect(leaks).toEqual([]);
  });

  it('When the browser asks for English, then the page is English with lang="en" and English amounts', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createPurchase(gw, publisher, { amount: '2.88' });
    const browser = await signedIn(pathOf(consentUrl), assertion(operator, ref));
    const res = await browser.get(pathOf(consentUrl)).set('Accept-Language', 'en-GB,en;q=0.9,fr;q=0.5');
    expect(res.text).toContain('<html lang="en">');
    expect(visibleText(res.text)).toContain('Confirm and pay €2.88');
    expect(visibleText(res.text)).toContain('VAT included');
  });

  it('When ?lang=en is given once, then a cookie remembers it and the next page is English without it', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createPurchase(gw, publisher);
    const browser = await signedIn(pathOf(consentUrl), assertion(operator, ref));
    const first = await browser.get(pathOf(consentUrl)).query({ lang: 'en' });
    expect(first.text).toContain('<html lang="en">');
    expect(String(first.headers['set-cookie'])).toContain('kiosque_lang=en');
    const next = await browser.get('/me');
    expect(next.text).toContain('<html lang="en">');
    expect(visibleText(next.text)).toContain('My Kiosque space');
    const back = await browser.get('/me').query({ lang: 'fr' });
    expect(back.text).toContain('<html lang="fr">');
  });
});

describe('Consent pages tell the whole offer', () => {
  it('When a purchase page renders, then it names the legal seller, links its support and the subscriber space, and loads only its own stylesheet', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createPurchase(gw, publisher);
    const browser = await signedIn(pathOf(consentUrl), assertion(operator, ref));
    const res = await browser.get(pathOf(consentUrl));
    const text = visibleText(res.text);
    expect(text).toContain('Vendu par La Gazette SAS');
    expect(res.text).toMatch(/<a href="https:\/\/gazette\.example\/aide"/);
    expect(res.text).toContain('<a href="/me">');
    expect(res.headers['content-security-policy']).toContain("style-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    const stylesheet = /<link rel="stylesheet" href="([^"]+)">/.exec(res.text)?.[1];
    expect(stylesheet).toMatch(/^\/assets\/kiosque-[0-9a-f]+\.css$/);
    expect(res.text).not.toMatch(/<script|src="https?:/);
    const css = await gw.api().get(stylesheet as string);
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.headers['cache-control']).toContain('immutable');
  });

  it('When a subscription page renders, then it gives the price per period, that it renews by itself, the next renewal date and how to cancel', async () => {
    const ref = await provision(gw, operator);
    const { consentUrl } = await createSubscription();
    const browser = await signedIn(pathOf(consentUrl), assertion(operator, ref));
    const res = await browser.get(pathOf(consentUrl));
    const text = visibleText(res.text);
    expect(text).toContain(`4,99${NBSP}€`);
    expect(text).toContain('par mois');
    expect(text).toContain('Cet abonnement se renouvelle tout seul chaque mois, jusqu’à ce que vous l’annuliez.');
    const now = new Date();
    const nextMonth = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' })
      .format(nextPeriodEnd(now, 'monthly', now))
      .replace(/^1 /, '1er ');
    expect(text).toContain(`Prochain renouvellement : ${nextMonth}`);
    expect(text).toContain('Annulable à tout moment dans votre espace Kiosque');
    expect(text).toContain(`M’abonner pour 4,99${NBSP}€ par mois`);
  });

  it('When the amount is above the per-purchase limit, then the page says which limit in a sentence and has no pay button', async () => {
    const strict = await createOperator(gw, { limits: { perPurchase: '1.00', weekly: '60.00', monthly: '150.00' } });
    const ref = await provision(gw, strict);
    const { id, consentUrl } = await createPurchase(gw, publisher, {
      amount: '2.00',
      returnUrl: 'https://gazette.example/article',
    });
    const browser = await signedIn(pathOf(consentUrl), assertion(strict, ref));
    const res = await browser.get(pathOf(consentUrl));
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<form');
    expect(res.text).not.toContain('<button');
    const text = visibleText(res.text);
    expect(text).toContain(`Ce prix, 2,00${NBSP}€, dépasse le plafond de 1,00${NBSP}€ par achat de votre compte.`);
    expect(res.text).toContain(`href="https://gazette.example/article"`);
    expect(text).toContain(`Retour à ${publisherName}`);
    expect(res.text).not.toContain(`Annuler et revenir`);
    expect(await storedPurchaseStatus(gw, id)).toBe('pending');
  });

  it('When the week budget is short, then the page says how much is left and on which day it starts again', async () => {
    const tight = await createOperator(gw, { limits: { perPurchase: '30.00', weekly: '10.00', monthly: '150.00' } });
    const ref = await provision(gw, tight);
    const token = assertion(tight, ref);
    expect((await buy(gw, publisher, token, { amount: '7.50' })).res.status).toBe(200);
    const { consentUrl } = await createPurchase(gw, publisher, { amount: '3.00' });
    const browser = await signedIn(pathOf(consentUrl), token);
    const res = await browser.get(pathOf(consentUrl));
    expect(res.text).not.toContain('<button');
    expect(visibleText(res.text)).toMatch(
      new RegExp(
        `Il vous reste 2,50${NBSP}€ à dépenser cette semaine, moins de 3,00${NBSP}€\\. Votre budget de la semaine repart à 10,00${NBSP}€ le lundi (1er|[12]?\\d|3[01]) \\S+\\.`,
      ),
    );
  });

  it("When the publisher gave a returnUrl, then the click sends the browser back to it with the purchase and its status, and the page's CSP lets it", async () => {
    const ref = await provision(gw, operator);
    const { id, consentUrl } = await createPurchase(gw, publisher, {
      returnUrl: 'https://gazette.example/article?x=1',
    });
    const browser = await signedIn(pathOf(consentUrl), assertion(operator, ref));
    const page = await browser.get(pathOf(consentUrl));
    expect(page.headers['content-security-policy']).toContain("form-action 'self' https://gazette.example;");
    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf: csrfOf(page.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(
      `https://gazette.example/article?x=1&kiosque_purchase=${id}&kiosque_status=confirmed`,
    );
  });

  it('When a click with a returnUrl is declined, then the browser goes back with kiosque_status=declined', async () => {
    const strict = await createOperator(gw, { limits: { perPurchase: '5.00', weekly: '60.00', monthly: '150.00' } });
    const ref = await provision(gw, strict);
    const { id, consentUrl } = await createSubscription({ returnUrl: 'https://gazette.example/abonnement' });
    const browser = await signedIn(pathOf(consentUrl), assertion(strict, ref));
    const csrf = csrfOf((await browser.get(pathOf(consentUrl))).text);
    await setOperatorPerPurchaseLimit(gw, strict.id, '1.00');
    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(
      `https://gazette.example/abonnement?kiosque_subscription=${id}&kiosque_status=declined`,
    );
  });
});

describe('Expired offers lead somewhere', () => {
  it('When the offer expires between the page and the click, then the answer says nothing was charged and links back to the publisher and to /me', async () => {
    const ref = await provision(gw, operator);
    const { id, consentUrl } = await createPurchase(gw, publisher, { returnUrl: 'https://gazette.example/article' });
    const browser = await signedIn(pathOf(consentUrl), assertion(operator, ref));
    const csrf = csrfOf((await browser.get(pathOf(consentUrl))).text);
    await expirePurchase(gw, id);
    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf });
    expect(res.status).toBe(410);
    const text = visibleText(res.text);
    expect(text).toContain('Cette offre a expiré');
    expect(text).toContain('Rien ne vous a été facturé.');
    expect(res.text).toContain(
      `<a class="button" href="https://gazette.example/article">Retour à ${publisherName}</a>`,
    );
    expect(res.text).toContain('href="/me"');
    expect(await storedPurchaseStatus(gw, id)).not.toBe('confirmed');
  });
});

describe('The subscriber space, /me', () => {
  it('When nobody is signed in, then /me is a 401 page', async () => {
    const res = await gw.api().get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('When a subscriber opens it, then it shows the budget left and each purchase with its consent evidence', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const { consentUrl, id } = await createPurchase(gw, publisher, { amount: '3.20', description: 'Mots croisés' });
    const browser = await signedIn(pathOf(consentUrl), token);
    const page = await browser.get(pathOf(consentUrl));
    await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .set('User-Agent', 'TestPhone/1.0')
      .type('form')
      .send({ csrf: csrfOf(page.text) });
    const res = await browser.get('/me');
    expect(res.status).toBe(200);
    const text = visibleText(res.text);
    expect(text).toContain(`56,80${NBSP}€`);
    expect(text).toContain(`146,80${NBSP}€`);
    expect(text).toContain('Mots croisés');
    expect(text).toContain(publisherName);
    expect(text).toContain('Confirmé, sur votre prochaine facture');
    expect(text).not.toMatch(/\bPayé\b/);
    expect(res.text).toContain(`id="purchase-${id}"`);
    // A person's summary first: when, on what, through whom, to what; the raw record below it, for a dispute.
    const evidence = res.text.slice(res.text.indexOf('<details class="evidence">'));
    const summary = visibleText(evidence.slice(0, evidence.indexOf('<details class="raw">')));
    expect(summary).toContain('Preuve de votre accord');
    expect(summary).toMatch(/Confirmé le (1er|\d+) \S+ \d{4} à \d\d:\d\d, sur un navigateur non reconnu\./);
    expect(summary).toContain(
      `Vous avez accepté de payer 3,20${NBSP}€ TTC à ${publisherName} pour «${NBSP}Mots croisés${NBSP}», sur votre facture.`,
    );
    expect(summary).toContain(`Vous étiez identifié par votre opérateur, ${operator.brand}.`);
    expect(summary).not.toMatch(/TestPhone|consent-page-|127\.0\.0\.1|::ffff/);
    const raw = visibleText(evidence.slice(evidence.indexOf('<details class="raw">')));
    expect(raw).toContain('Données enregistrées, pour un litige');
    expect(raw).toContain('TestPhone/1.0');
    expect(raw).toContain('consent-page-');
  });

  it('When the cancel form is posted with its token, then the subscription is canceled; with a forged one, nothing changes', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const { id } = await createSubscription();
    expect((await gw.api().post(`/v1/subscriptions/${id}/confirm`).set(bearer(token))).status).toBe(200);
    const browser = await signedIn('/me', token);
    const page = await browser.get('/me');
    expect(page.text).toContain(`action="/me/subscriptions/${id}/cancel"`);
    // Before the click, the words say what cancelling would do, not that it is done.
    const before = visibleText(page.text);
    expect(before).toMatch(
      /Si vous l’annulez, vous gardez l’accès jusqu’au (1er|\d+) \S+ \d{4}, puis plus rien n’est prélevé\./,
    );
    expect(before).not.toContain('Plus rien ne sera prélevé');
    const forged = await browser.post(`/me/subscriptions/${id}/cancel`).type('form').send({ csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(await storedSubscriptionStatus(gw, id)).toBe('active');
    const res = await browser
      .post(`/me/subscriptions/${id}/cancel`)
      .type('form')
      .send({ csrf: csrfOf(page.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/me?notice=subscription_canceled&subscription=${id}#subscription-${id}`);
    const row = await subscriptionRow(gw, id);
    expect(row.status).toBe('canceled');
    const until = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' })
      .format(row.currentPeriodEnd as Date)
      .replace(/^1 /, '1er ');
    const after = visibleText((await browser.get(res.headers.location as string)).text);
    expect(after).toContain(
      `Votre abonnement à «${NBSP}La Gazette, chaque matin${NBSP}» est annulé. Vous y avez accès jusqu’au ${until} ; plus rien ne sera prélevé.`,
    );
    expect(after).toContain(`Accès jusqu’au ${until}`);
  });

  it('When a dispute is opened from the page, then it is open on the purchase and shown with its reason', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const { id } = await buy(gw, publisher, token, { description: 'Article payé deux fois' });
    const browser = await signedIn('/me', token);
    const page = await browser.get('/me');
    const csrf = csrfOf(page.text);
    const empty = await browser.post('/me/disputes').type('form').send({ csrf, purchaseId: id, reason: '   ' });
    expect(empty.headers.location).toBe('/me?error=reason_required#purchases');
    const res = await browser
      .post('/me/disputes')
      .type('form')
      .send({ csrf, purchaseId: id, reason: 'Débité deux fois' });
    expect(res.status).toBe(303);
    const dispute = await disputeOfPurchase(gw, id);
    expect(dispute).toMatchObject({ status: 'open', openedBy: 'subscriber', reason: 'Débité deux fois' });
    const text = visibleText((await browser.get('/me')).text);
    expect(text).toContain(`Contestation de «${NBSP}Article payé deux fois${NBSP}»`);
    expect(text).toContain('Débité deux fois');
    const again = await browser.post('/me/disputes').type('form').send({ csrf, purchaseId: id, reason: 'Encore' });
    expect(again.headers.location).toBe('/me?error=invalid_state#purchases');
  });
});

describe('The parent space, /me/children', () => {
  async function household() {
    const holderRef = await provision(gw, operator);
    const childRef = await provision(gw, operator, unique('child'), { holderRef, displayName: 'Léa' });
    return { holderRef, childRef };
  }

  it('When a child opens it, then it is a 403 page', async () => {
    const { childRef } = await household();
    const browser = await signedIn('/me/children', assertion(operator, childRef));
    const res = await browser.get('/me/children');
    expect(res.status).toBe(403);
    expect(visibleText(res.text)).toContain('Réservé au titulaire du compte');
  });

  it('When the holder blocks a category in the form, then it takes effect at once and the child sees it on its next consent page', async () => {
    const { holderRef, childRef } = await household();
    const browser = await signedIn('/me/children', assertion(operator, holderRef));
    const page = await browser.get('/me/children');
    expect(page.status).toBe(200);
    expect(visibleText(page.text)).toContain('Léa');
    const res = await browser
      .post(`/me/children/${childRef}/controls`)
      .type('form')
      .send(`csrf=${encodeURIComponent(csrfOf(page.text))}&categories=press&categories=games&weekly=12,5&monthly=`);
    expect(res.status).toBe(303);
    const controls = await gw
      .api()
      .get(`/v1/me/children/${childRef}/controls`)
      .set(bearer(assertion(operator, holderRef)));
    expect(controls.body).toMatchObject({
      blocked: false,
      blockedCategories: ['press', 'games'],
      weekly: '12.50',
      monthly: '150.00',
    });
    const { consentUrl } = await createPurchase(gw, publisher);
    const child = await signedIn(pathOf(consentUrl), assertion(operator, childRef));
    const consent = await child.get(pathOf(consentUrl));
    expect(consent.text).not.toContain('<button');
    expect(visibleText(consent.text)).toContain(
      `Les achats de la catégorie «${NBSP}Presse${NBSP}» sont bloqués sur ce compte`,
    );
    expect(visibleText(consent.text)).not.toContain('Reste cette semaine');
  });

  it('When the holder types a limit above the operator, then the form comes back with the error and nothing is saved', async () => {
    const { holderRef, childRef } = await household();
    const browser = await signedIn('/me/children', assertion(operator, holderRef));
    const page = await browser.get('/me/children');
    const res = await browser
      .post(`/me/children/${childRef}/controls`)
      .type('form')
      .send({ csrf: csrfOf(page.text), blocked: 'on', weekly: '99' });
    expect(res.status).toBe(400);
    expect(visibleText(res.text)).toContain(`Ce plafond ne peut pas dépasser 60,00${NBSP}€.`);
    expect(res.text).toContain('aria-invalid="true"');
    const child = await subscriberRow(gw, operator.id, childRef);
    expect(child.blocked).toBe(false);
    const typo = await browser
      .post(`/me/children/${childRef}/controls`)
      .type('form')
      .send({ csrf: csrfOf(page.text), weekly: 'dix' });
    expect(typo.status).toBe(400);
    expect(visibleText(typo.text)).toContain('Écrivez un montant comme 20 ou 20,50.');
  });
});

describe('Admin fields the pages rely on', () => {
  it('When a publisher has no legal name or support link, then the consent page still renders without them', async () => {
    const bare = await gw
      .api()
      .post('/v1/admin/publishers')
      .set(admin)
      .send({ name: unique('Bare'), category: 'games' });
    const ref = await provision(gw, operator);
    const { consentUrl } = await createPurchase(gw, { id: bare.body.id, apiKey: bare.body.apiKey, webhookSecret: '' });
    const browser = await signedIn(pathOf(consentUrl), assertion(operator, ref));
    const res = await browser.get(pathOf(consentUrl));
    expect(res.status).toBe(200);
    expect(visibleText(res.text)).not.toContain('Vendu par');
  });
});

describe('Terms, privacy and help, linked from every page', () => {
  it('When anyone opens a page, then its footer links to the terms, the privacy notice and help, and each answers without signing in', async () => {
    const signIn = await gw.api().get('/me');
    expect(signIn.status).toBe(401);
    for (const path of ['/legal/terms', '/legal/privacy', '/help']) {
      expect(signIn.text).toContain(`href="${path}"`);
      const page = await gw.api().get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.headers['cache-control']).toBe('no-store');
    }
    const help = visibleText((await gw.api().get('/help')).text);
    expect(help).toContain('contactez le service client de votre opérateur internet ou mobile');
    const english = visibleText((await gw.api().get('/legal/privacy').set('Accept-Language', 'en')).text);
    expect(english).toContain('Kiosque receives from your operator an identifier of your line');
  });

  it('When a signed-in subscriber opens help, then it names their operator’s customer service', async () => {
    const ref = await provision(gw, operator);
    const browser = await signedIn('/help', assertion(operator, ref));
    const res = await browser.get('/help');
    const text = visibleText(res.text);
    expect(text).toContain(
      `contactez le service client de ${operator.brand} depuis votre espace client ${operator.brand}`,
    );
    expect(res.text).toContain(`Service client de ${operator.brand}`);
  });

  it('When a holder has no child, then /me offers no parent space; once a child is attached, it does', async () => {
    const holderRef = await provision(gw, operator);
    const browser = await signedIn('/me', assertion(operator, holderRef));
    expect((await browser.get('/me')).text).not.toContain('href="/me/children"');
    await provision(gw, operator, unique('child'), { holderRef, displayName: 'Noé' });
    expect((await browser.get('/me')).text).toContain('href="/me/children"');
  });
});
