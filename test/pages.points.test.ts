import type supertest from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { sweepPoints } from '../src/domain/household-points.js';
import { PENDING_MS } from '../src/domain/points.js';
import { admin, assertion, bearer, createPurchase, provision, unique } from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';
import { purchaseRow, storedPurchaseStatus } from './support/rows.js';

const gw = useGateway();
const operator = useOperator(gw);
beforeAll(async () => {
  await gw
    .api()
    .patch(`/v1/admin/operators/${operator.id}`)
    .set(admin)
    .send({ points: { enabled: true } });
});
const awarding = usePublisher(gw, { pointsPerEuro: 10 });
const plain = usePublisher(gw);

const pathOf = (url: string) => new URL(url).pathname;
const NBSP = '\u00a0';

function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`no csrf field in page: ${html}`);
  return token;
}

function visibleText(html: string): string {
  return html
    .replace(/<head>[\s\S]*<\/head>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/[ \t\n]+/g, ' ');
}

async function signedIn(path: string, token: string): Promise<supertest.Agent> {
  const browser = gw.api();
  const res = await browser.get(path).query({ assertion: token });
  expect(res.status).toBe(303);
  return browser;
}

/** A household whose holder has `euros × 10` points available. */
async function householdWithPoints(euros: string) {
  const holderRef = await provision(gw, operator);
  const childRef = await provision(gw, operator, unique('child'), { holderRef });
  const holder = assertion(operator, holderRef);
  const { id } = await createPurchase(gw, awarding, { amount: euros });
  expect((await gw.api().post(`/v1/purchases/${id}/confirm`).set(bearer(holder))).status).toBe(200);
  await sweepPoints(gw.ctx.database, new Date(Date.now() + PENDING_MS + 60_000), 1000, {
    operatorIds: [operator.id],
  });
  return { holder, child: assertion(operator, childRef) };
}

describe('Consent page: paying with points', () => {
  it('When a household has points, then the page shows both parts before the click, and the points button pays with them', async () => {
    const h = await householdWithPoints('15.00');
    const { id, consentUrl } = await createPurchase(gw, plain, { amount: '2.00', description: 'Grille du jour' });
    const browser = await signedIn(pathOf(consentUrl), h.holder);
    const page = await browser.get(pathOf(consentUrl));
    expect(page.status).toBe(200);
    const text = visibleText(page.text);
    expect(text).toContain(`Vous avez 150 points Kiosque disponibles (1,50${NBSP}€)`);
    expect(text).toContain(`Confirmer et payer 2,00${NBSP}€`);
    expect(text).toContain(`Payer 0,50${NBSP}€ et 150 points (1,50${NBSP}€)`);
    expect(page.text).toContain('name="points" value="150"');

    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf: csrfOf(page.text), points: '150' });
    expect(res.status).toBe(200);
    expect(visibleText(res.text)).toMatch(
      new RegExp(
        `Vous avez payé 0,50${NBSP}€ et 150 points \\(1,50${NBSP}€\\) (à|au|aux) .+ pour «${NBSP}Grille du jour${NBSP}»`,
      ),
    );
    const row = await purchaseRow(gw, id);
    expect(row.amount.toFixed(2)).toBe('0.50');
    expect(row.pointsSpent).toBe(150);
  });

  it('When the points would pay it all, then the button says nothing goes on the bill', async () => {
    const h = await householdWithPoints('30.00');
    const { consentUrl } = await createPurchase(gw, plain, { amount: '2.00' });
    const browser = await signedIn(pathOf(consentUrl), h.holder);
    const text = visibleText((await browser.get(`${pathOf(consentUrl)}?lang=en`)).text);
    expect(text).toContain('Pay with 200 points (€2.00), €0 on the bill');
  });

  it('When the price is above the budget left but the euro part is not, then only the points choice is offered', async () => {
    const h = await householdWithPoints('20.00');
    const more = await createPurchase(gw, awarding, { amount: '20.00' });
    expect((await gw.api().post(`/v1/purchases/${more.id}/confirm`).set(bearer(h.holder))).status).toBe(200);
    // 40.00 of the 60.00 weekly budget is spent: 21.00 is over it, 21.00 less 200 points (2.00) is not.
    const { consentUrl } = await createPurchase(gw, plain, { amount: '21.00' });
    const browser = await signedIn(pathOf(consentUrl), h.holder);
    const page = await browser.get(pathOf(consentUrl));
    const text = visibleText(page.text);
    expect(text).not.toContain('Confirmer et payer');
    expect(text).toContain(`Payer 19,00${NBSP}€ et 200 points (2,00${NBSP}€)`);
    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf: csrfOf(page.text), points: '200' });
    expect(res.status).toBe(200);
  });

  it('When a child may not spend points, then its page has no points choice; a forged points click is refused and nothing changes', async () => {
    const h = await householdWithPoints('5.00');
    const { id, consentUrl } = await createPurchase(gw, plain, { amount: '1.00' });
    const browser = await signedIn(pathOf(consentUrl), h.child);
    const page = await browser.get(pathOf(consentUrl));
    expect(page.text).not.toContain('name="points"');
    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf: csrfOf(page.text), points: '10' });
    expect(res.status).toBe(403);
    expect(visibleText(res.text)).toContain('Paiement en points impossible');
    expect(await storedPurchaseStatus(gw, id)).toBe('pending');
  });

  it('When the points were spent meanwhile, then the click is a 409 page and the purchase stays pending', async () => {
    const h = await householdWithPoints('1.00');
    const { id, consentUrl } = await createPurchase(gw, plain, { amount: '1.00' });
    const browser = await signedIn(pathOf(consentUrl), h.holder);
    const page = await browser.get(pathOf(consentUrl));
    const other = await createPurchase(gw, plain, { amount: '1.00' });
    await gw.api().post(`/v1/purchases/${other.id}/confirm`).set(bearer(h.holder)).send({ points: 10 });
    const res = await browser
      .post(`${pathOf(consentUrl)}/confirm`)
      .type('form')
      .send({ csrf: csrfOf(page.text), points: '10' });
    expect(res.status).toBe(409);
    expect(await storedPurchaseStatus(gw, id)).toBe('pending');
  });
});

describe('The subscriber space shows the points', () => {
  it('When a household earned, matured and spent points, then /me shows available, pending and the history', async () => {
    const h = await householdWithPoints('12.00');
    const spend = await createPurchase(gw, plain, { amount: '1.00' });
    await gw.api().post(`/v1/purchases/${spend.id}/confirm`).set(bearer(h.holder)).send({ points: 40 });
    const earn = await createPurchase(gw, awarding, { amount: '0.70' });
    await gw.api().post(`/v1/purchases/${earn.id}/confirm`).set(bearer(h.holder));
    const browser = await signedIn('/me', h.holder);
    const res = await browser.get('/me');
    expect(res.status).toBe(200);
    const text = visibleText(res.text);
    expect(text).toContain('Mes points Kiosque');
    expect(text).toContain(`80 points disponibles (0,80${NBSP}€)`);
    expect(text).toContain('7 points en attente');
    expect(text).toContain('Dépensés · -40');
    expect(text).toContain('Gagnés · +120');
    expect(text).toContain('Devenus disponibles · +120');
    const english = visibleText((await browser.get('/me?lang=en')).text);
    expect(english).toContain('80 points available (€0.80)');
  });
});
