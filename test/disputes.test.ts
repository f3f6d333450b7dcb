import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { CONSENT_PAGE_VERSION } from '../src/http/consent-page.js';
import { useBillingHarness, postBillingRun, waitForRun } from './support/billing.js';
import {
  admin,
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  createPurchase,
  idemKey,
  provision,
  unique,
  type OperatorFixture,
  type PublisherFixture,
} from './support/harness.js';
import {
  confirmedDaysAgo,
  disputeCount,
  disputeRow,
  eventsAbout,
  passRespondBy,
  publisherRow,
  purchaseRow,
  refundCount,
  storedPurchaseStatus,
} from './support/rows.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

const DAY_MS = 24 * 60 * 60 * 1000;

const gw = useGateway({ queuePrefix: unique('q-disputes') });
const operator = useOperator(gw);
const otherOperator = useOperator(gw);
const publisher = usePublisher(gw);
const otherPublisher = usePublisher(gw);
const billing = useBillingHarness(gw);

interface Bought {
  ref: string;
  token: string;
  purchaseId: string;
}

/** A fresh subscriber of `operator` with one confirmed purchase from `publisher`. */
async function boughtOne(
  amount = '4.00',
  seller: PublisherFixture = publisher,
  by: OperatorFixture = operator,
): Promise<Bought> {
  const ref = await provision(gw, by);
  const token = assertion(by, ref);
  const { id, res } = await buy(gw, seller, token, { amount });
  expect(res.status).toBe(200);
  return { ref, token, purchaseId: id };
}

function openDispute(token: string, body: Record<string, unknown>, key: string = idemKey()) {
  return gw.api().post('/v1/disputes').set(bearer(token)).set('Idempotency-Key', key).send(body);
}

function respond(apiKey: string, disputeId: string, body: Record<string, unknown>) {
  return gw
    .api()
    .post(`/v1/disputes/${disputeId}/response`)
    .set(bearer(apiKey))
    .set('Idempotency-Key', idemKey())
    .send(body);
}

function resolve(apiKey: string, disputeId: string, outcome: string) {
  return gw
    .api()
    .post(`/v1/operator/disputes/${disputeId}/resolve`)
    .set(bearer(apiKey))
    .set('Idempotency-Key', idemKey())
    .send({ outcome });
}

const purchaseStatus = (id: string) => storedPurchaseStatus(gw, id);

const eventsOf = (type: string, objectId: string) => eventsAbout(gw, type, objectId);

describe('POST /v1/disputes: opening', () => {
  it('When a subscriber disputes its confirmed purchase, then it is open for 7 days, the purchase is disputed and the publisher is told', async () => {
    const { token, purchaseId } = await boughtOne();
    const res = await openDispute(token, { purchaseId, reason: 'I never read this article' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'open',
      purchaseId,
      reason: 'I never read this article',
      openedBy: 'subscriber',
    });
    expect(Date.parse(res.body.respondBy) - Date.parse(res.body.createdAt)).toBe(7 * DAY_MS);
    expect(await purchaseStatus(purchaseId)).toBe('disputed');
    const opened = await eventsOf('dispute.opened', res.body.id);
    expect(opened).toHaveLength(1);
    expect(opened[0]?.publisherId).toBe(publisher.id);
    expect((opened[0]?.payload as { data: Record<string, unknown> }).data).not.toHaveProperty('consent');
    const asPublisher = await gw.api().get(`/v1/purchases/${purchaseId}`).set(bearer(publisher.apiKey));
    expect(asPublisher.body.status).toBe('disputed');
  });

  it('When an operator opens a dispute for one of its subscribers, then it is open and marked as opened by the operator', async () => {
    const { ref, purchaseId } = await boughtOne();
    const res = await openDispute(operator.apiKey, { purchaseId, reason: 'Customer complaint', subscriberRef: ref });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'open', openedBy: 'operator', subscriberRef: ref });
  });

  it('When an operator names a subscriber it did not provision, then it is 404 and nothing is opened', async () => {
    const { ref, purchaseId } = await boughtOne();
    const res = await openDispute(otherOperator.apiKey, { purchaseId, reason: 'Not mine', subscriberRef: ref });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect(await disputeCount(gw, purchaseId)).toBe(0);
  });

  it("When an operator names its own subscriber but another subscriber's purchase, then it is 404", async () => {
    const { purchaseId } = await boughtOne();
    const ownRef = await provision(gw, otherOperator);
    const res = await openDispute(otherOperator.apiKey, { purchaseId, reason: 'Not theirs', subscriberRef: ownRef });
    expect(res.status).toBe(404);
    expect(await purchaseStatus(purchaseId)).toBe('confirmed');
  });

  it("When a subscriber disputes someone else's purchase, then it is 404", async () => {
    const { purchaseId } = await boughtOne();
    const stranger = assertion(operator, await provision(gw, operator));
    const res = await openDispute(stranger, { purchaseId, reason: 'Not mine' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('When an operator leaves out subscriberRef, or a subscriber adds one, then it is 400 naming the field and stores nothing under the key', async () => {
    const { ref, token, purchaseId } = await boughtOne();
    const key = idemKey();
    const byOperator = await openDispute(operator.apiKey, { purchaseId, reason: 'x' }, key);
    expect(byOperator.status).toBe(400);
    expect(byOperator.body.error.details.fields).toHaveProperty('subscriberRef');
    const bySubscriber = await openDispute(token, { purchaseId, reason: 'x', subscriberRef: ref });
    expect(bySubscriber.status).toBe(400);
    expect(bySubscriber.body.error.details.fields).toHaveProperty('subscriberRef');
    const retried = await openDispute(operator.apiKey, { purchaseId, reason: 'x', subscriberRef: ref }, key);
    expect(retried.status).toBe(201);
  });

  it('When the reason is missing or blank, then it is 400 invalid_request naming it', async () => {
    const { token, purchaseId } = await boughtOne();
    for (const reason of [undefined, '   ']) {
      const res = await openDispute(token, { purchaseId, reason });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'invalid_request',
        details: { fields: { reason: expect.any(String) } },
      });
    }
    expect(await disputeCount(gw, purchaseId)).toBe(0);
  });

  it('When a publisher tries to open a dispute, then it is 403', async () => {
    const { purchaseId } = await boughtOne();
    const res = await openDispute(publisher.apiKey, { purchaseId, reason: 'x' });
    expect(res.status).toBe(403);
  });

  it('When the purchase was confirmed 364 days ago, then it can be disputed; 366 days ago, then it is 409 invalid_state', async () => {
    const recent = await boughtOne();
    const old = await boughtOne();
    await confirmedDaysAgo(gw, recent.purchaseId, 364);
    await confirmedDaysAgo(gw, old.purchaseId, 366);
    expect((await openDispute(recent.token, { purchaseId: recent.purchaseId, reason: 'late' })).status).toBe(201);
    const tooLate = await openDispute(old.token, { purchaseId: old.purchaseId, reason: 'too late' });
    expect(tooLate.status).toBe(409);
    expect(tooLate.body.error.code).toBe('invalid_state');
    expect(await purchaseStatus(old.purchaseId)).toBe('confirmed');
  });

  it('When the purchase is pending, declined or fully refunded, then it is 409 invalid_state', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const pending = await createPurchase(gw, publisher);
    const declined = await buy(gw, publisher, token, { amount: '45.00' });
    expect(declined.res.status).toBe(402);
    const refunded = await buy(gw, publisher, token, { amount: '1.00' });
    await gw
      .api()
      .post(`/v1/purchases/${refunded.id}/refunds`)
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    // The pending one is no one's yet; it is 404 rather than a leak of its existence to this subscriber.
    expect((await openDispute(token, { purchaseId: pending.id, reason: 'x' })).status).toBe(404);
    for (const purchaseId of [declined.id, refunded.id]) {
      const res = await openDispute(token, { purchaseId, reason: 'x' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('invalid_state');
    }
  });

  it('When ten disputes on one purchase arrive at once, then exactly one is opened and the others are 409', async () => {
    const { token, purchaseId } = await boughtOne();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => openDispute(token, { purchaseId, reason: `attempt ${i}` })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array(9).fill(409)]);
    expect(await disputeCount(gw, purchaseId)).toBe(1);
  });

  it('When a dispute is open, then a second one is 409; once it is won, then a new one can be opened', async () => {
    const { token, purchaseId } = await boughtOne();
    const first = await openDispute(token, { purchaseId, reason: 'first' });
    expect((await openDispute(token, { purchaseId, reason: 'second' })).status).toBe(409);
    await respond(publisher.apiKey, first.body.id, { accept: false, evidence: 'Read for 12 minutes' });
    expect((await openDispute(token, { purchaseId, reason: 'while under review' })).status).toBe(409);
    expect((await resolve(operator.apiKey, first.body.id, 'won')).status).toBe(200);
    expect((await openDispute(token, { purchaseId, reason: 'again' })).status).toBe(201);
  });

  it('When the same Idempotency-Key is sent twice, then the first answer is replayed and one dispute exists', async () => {
    const { token, purchaseId } = await boughtOne();
    const key = idemKey();
    const first = await openDispute(token, { purchaseId, reason: 'replay' }, key);
    const second = await openDispute(token, { purchaseId, reason: 'replay' }, key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers['idempotent-replayed']).toBe('true');
    const other = await openDispute(token, { purchaseId, reason: 'another body' }, key);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
  });
});

describe('POST /v1/disputes/:id/response and /v1/operator/disputes/:id/resolve', () => {
  it('When the publisher accepts, then the dispute is lost, the purchase refunded in full and the ceilings freed', async () => {
    const { token, purchaseId } = await boughtOne('12.50');
    const before = await gw.api().get('/v1/me/budget').set(bearer(token));
    expect(before.body.weekly.spent).toBe('12.50');
    const opened = await openDispute(token, { purchaseId, reason: 'Charged twice' });
    const res = await respond(publisher.apiKey, opened.body.id, { accept: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'lost', refund: { amount: '12.50', purchaseId, reason: 'dispute' } });
    expect(res.body.purchase).toMatchObject({ status: 'refunded', refundedAmount: '12.50' });
    expect(res.body.closedAt).not.toBeNull();
    const after = await gw.api().get('/v1/me/budget').set(bearer(token));
    expect(after.body.weekly).toMatchObject({ spent: '0.00', remaining: '60.00' });
    const refunds = await gw.ctx.database.prisma.refund.findMany({ where: { purchaseId } });
    expect(refunds.map((r) => ({ amount: r.amount.toFixed(2), disputeId: r.disputeId }))).toEqual([
      { amount: '12.50', disputeId: opened.body.id },
    ]);
    expect(await eventsOf('dispute.closed', opened.body.id)).toHaveLength(1);
    const refundedEvents = await eventsOf('purchase.refunded', purchaseId);
    expect((refundedEvents[0]?.payload as { data: { status: string } }).data.status).toBe('refunded');
  });

  it('When the purchase was partly refunded before, then a lost dispute refunds only what is left', async () => {
    const { token, purchaseId } = await boughtOne('5.00');
    await gw
      .api()
      .post(`/v1/purchases/${purchaseId}/refunds`)
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ amount: '1.25' });
    const opened = await openDispute(token, { purchaseId, reason: 'Rest of it' });
    const res = await respond(publisher.apiKey, opened.body.id, { accept: true });
    expect(res.body.refund.amount).toBe('3.75');
    expect(res.body.purchase).toMatchObject({ status: 'refunded', refundedAmount: '5.00' });
  });

  it('When the publisher contests with evidence, then it is under review and the purchase stays disputed', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'Did not order' });
    const res = await respond(publisher.apiKey, opened.body.id, {
      accept: false,
      evidence: 'Consent page shown, confirmed from the subscriber session',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'under_review',
      evidence: 'Consent page shown, confirmed from the subscriber session',
      closedAt: null,
    });
    expect(res.body.respondedAt).not.toBeNull();
    expect(await purchaseStatus(purchaseId)).toBe('disputed');
    expect((await respond(publisher.apiKey, opened.body.id, { accept: true })).status).toBe(409);
  });

  it('When the operator resolves a contested dispute as won, then the purchase is confirmed again and nothing is refunded', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    await respond(publisher.apiKey, opened.body.id, { accept: false });
    const res = await resolve(operator.apiKey, opened.body.id, 'won');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'won',
      refund: null,
      purchase: { status: 'confirmed', refundedAmount: '0.00' },
    });
    expect(await refundCount(gw, purchaseId)).toBe(0);
    expect(await eventsOf('dispute.closed', opened.body.id)).toHaveLength(1);
  });

  it('When the operator resolves a contested dispute as lost, then the purchase is refunded', async () => {
    const { token, purchaseId } = await boughtOne('3.00');
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    await respond(publisher.apiKey, opened.body.id, { accept: false, evidence: 'logs' });
    const res = await resolve(operator.apiKey, opened.body.id, 'lost');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'lost', refund: { amount: '3.00' }, purchase: { status: 'refunded' } });
  });

  it('When the operator resolves a dispute that is still open or already closed, then it is 409', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    expect((await resolve(operator.apiKey, opened.body.id, 'won')).status).toBe(409);
    await respond(publisher.apiKey, opened.body.id, { accept: true });
    const closed = await resolve(operator.apiKey, opened.body.id, 'won');
    expect(closed.status).toBe(409);
    expect(closed.body.error.code).toBe('invalid_state');
  });

  it('When another operator resolves the dispute, then it is 404 and the dispute is unchanged', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    await respond(publisher.apiKey, opened.body.id, { accept: false });
    const res = await resolve(otherOperator.apiKey, opened.body.id, 'lost');
    expect(res.status).toBe(404);
    expect((await disputeRow(gw, opened.body.id)).status).toBe('under_review');
  });

  it('When the publisher of another purchase responds, then it is 404 and the dispute stays open', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    const res = await respond(otherPublisher.apiKey, opened.body.id, { accept: false, evidence: 'not mine' });
    expect(res.status).toBe(404);
    expect((await disputeRow(gw, opened.body.id)).status).toBe('open');
  });

  it('When a subscriber or operator tries to respond, or a publisher to resolve, then it is 403', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    expect((await respond(token, opened.body.id, { accept: true })).status).toBe(403);
    expect((await respond(operator.apiKey, opened.body.id, { accept: true })).status).toBe(403);
    expect((await resolve(publisher.apiKey, opened.body.id, 'lost')).status).toBe(403);
  });

  it('When the response or the outcome is malformed, then it is 400 and nothing changes', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    const badResponse = await respond(publisher.apiKey, opened.body.id, { accept: 'yes' });
    expect(badResponse.status).toBe(400);
    expect(badResponse.body.error.details.fields).toHaveProperty('accept');
    const badOutcome = await resolve(operator.apiKey, opened.body.id, 'draw');
    expect(badOutcome.status).toBe(400);
    expect(badOutcome.body.error.details.fields).toHaveProperty('outcome');
    expect((await disputeRow(gw, opened.body.id)).status).toBe('open');
  });

  it('When the publisher answers after respondBy, then it is 409 and the dispute is left for the deadline worker', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    await passRespondBy(gw, opened.body.id);
    const res = await respond(publisher.apiKey, opened.body.id, { accept: false, evidence: 'late' });
    expect(res.status).toBe(409);
    // A deadline worker of another test may close it meanwhile; what matters is that the late answer was not applied.
    const row = await disputeRow(gw, opened.body.id);
    expect(row.status).not.toBe('under_review');
    expect(row.evidence).toBeNull();
  });

  it('When a response is retried with its Idempotency-Key, then it is replayed, not applied twice', async () => {
    const { token, purchaseId } = await boughtOne('2.00');
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    const key = idemKey();
    const send = () =>
      gw
        .api()
        .post(`/v1/disputes/${opened.body.id}/response`)
        .set(bearer(publisher.apiKey))
        .set('Idempotency-Key', key)
        .send({ accept: true });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(await refundCount(gw, purchaseId)).toBe(1);
  });
});

describe('GET /v1/disputes/:id and consent evidence', () => {
  it('When each party reads the dispute, then subscriber and operator see the consent evidence and the publisher does not', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    const asSubscriber = await gw.api().get(`/v1/disputes/${opened.body.id}`).set(bearer(token));
    const asOperator = await gw.api().get(`/v1/disputes/${opened.body.id}`).set(bearer(operator.apiKey));
    const asPublisher = await gw.api().get(`/v1/disputes/${opened.body.id}`).set(bearer(publisher.apiKey));
    for (const res of [asSubscriber, asOperator, asPublisher]) {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: opened.body.id, status: 'open', purchaseId });
    }
    expect(asSubscriber.body.consent).toMatchObject({
      pageVersion: 'api-v1',
      assertionId: expect.any(String),
      ip: expect.any(String),
    });
    expect(asOperator.body.consent).toEqual(asSubscriber.body.consent);
    expect(asPublisher.body).not.toHaveProperty('consent');
    // The operator's reference may be a phone number: the publisher never sees it.
    expect(asOperator.body.subscriberRef).toEqual(expect.any(String));
    expect(asPublisher.body).not.toHaveProperty('subscriberRef');
  });

  it("When an operator lists disputes under review, then it sees only its own subscribers' contested ones, page by page", async () => {
    const op = await createOperator(gw);
    const contested: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { token, purchaseId } = await boughtOne('1.00', publisher, op);
      const opened = await openDispute(token, { purchaseId, reason: `contested ${i}` });
      await respond(publisher.apiKey, opened.body.id, { accept: false });
      contested.push(opened.body.id);
    }
    const stillOpen = await boughtOne('1.00', publisher, op);
    await openDispute(stillOpen.token, { purchaseId: stillOpen.purchaseId, reason: 'open' });
    const foreign = await boughtOne('1.00', publisher, otherOperator);
    const foreignDispute = await openDispute(foreign.token, { purchaseId: foreign.purchaseId, reason: 'elsewhere' });
    await respond(publisher.apiKey, foreignDispute.body.id, { accept: false });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { data: { id: string; status: string }[]; nextCursor: string | null } } =
        await gw
          .api()
          .get('/v1/disputes')
          .query({ status: 'under_review', limit: 2, ...(cursor ? { cursor } : {}) })
          .set(bearer(op.apiKey));
      expect(res.status).toBe(200);
      expect(res.body.data.every((d) => d.status === 'under_review')).toBe(true);
      seen.push(...res.body.data.map((d) => d.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...contested].reverse());
    const bad = await gw.api().get('/v1/disputes').query({ status: 'closed' }).set(bearer(op.apiKey));
    expect(bad.status).toBe(400);
  });

  it('When someone not party to the dispute reads it, then it is 404', async () => {
    const { token, purchaseId } = await boughtOne();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    const stranger = assertion(operator, await provision(gw, operator));
    for (const credential of [stranger, otherOperator.apiKey, otherPublisher.apiKey]) {
      const res = await gw.api().get(`/v1/disputes/${opened.body.id}`).set(bearer(credential));
      expect(res.status).toBe(404);
    }
  });

  it('When a subscriber confirms through the API, then its purchase shows when, from where, with which agent, page version and assertion', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref);
    const { id } = await createPurchase(gw, publisher);
    const confirmed = await gw
      .api()
      .post(`/v1/purchases/${id}/confirm`)
      .set(bearer(token))
      .set('User-Agent', 'Kiosque-Test/1.0');
    const res = await gw.api().get(`/v1/purchases/${id}`).set(bearer(token));
    const row = await purchaseRow(gw, id);
    expect(res.body.consent).toEqual({
      at: confirmed.body.confirmedAt,
      ip: row.consentIp,
      userAgent: 'Kiosque-Test/1.0',
      pageVersion: 'api-v1',
      assertionId: row.consentAssertionId,
    });
    expect(res.body.consent.ip).toMatch(/127\.0\.0\.1|::1/);
  });

  it('When a subscriber confirms on the consent page, then the evidence names that page version and the assertion it brought', async () => {
    const ref = await provision(gw, operator);
    const token = assertion(operator, ref, { jwtid: unique('jti') });
    const { id, consentUrl } = await createPurchase(gw, publisher);
    const browser = gw.api();
    const path = new URL(consentUrl).pathname;
    expect((await browser.get(path).query({ assertion: token })).status).toBe(303);
    const page = await browser.get(path);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
    expect(csrf).toBeDefined();
    const confirmed = await browser.post(`${path}/confirm`).type('form').set('User-Agent', 'Browser/42').send({ csrf });
    expect(confirmed.status).toBe(200);
    const res = await gw.api().get(`/v1/purchases/${id}`).set(bearer(token));
    expect(res.body.consent).toMatchObject({
      pageVersion: CONSENT_PAGE_VERSION,
      userAgent: 'Browser/42',
      assertionId: (jwt.decode(token) as { jti: string }).jti,
    });
    expect(Date.parse(res.body.consent.at)).toBe(Date.parse(res.body.confirmedAt));
  });

  it('When the purchase is disputed and the dispute lost, then the consent evidence is unchanged', async () => {
    const { token, purchaseId } = await boughtOne();
    const before = (await gw.api().get(`/v1/purchases/${purchaseId}`).set(bearer(token))).body.consent;
    expect(before).not.toBeNull();
    const opened = await openDispute(token, { purchaseId, reason: 'x' });
    const whileDisputed = (await gw.api().get(`/v1/purchases/${purchaseId}`).set(bearer(token))).body;
    expect(whileDisputed.status).toBe('disputed');
    expect(whileDisputed.consent).toEqual(before);
    expect(opened.body.consent).toEqual(before);
    await respond(publisher.apiKey, opened.body.id, { accept: true });
    const afterLoss = (await gw.api().get(`/v1/purchases/${purchaseId}`).set(bearer(token))).body;
    expect(afterLoss.status).toBe('refunded');
    expect(afterLoss.consent).toEqual(before);
  });
});

describe('Dispute rate and automatic suspension', () => {
  it("When the admin reads a publisher's dispute rate, then it counts disputes and confirmed purchases of the last 30 days", async () => {
    const seller = await createPublisher(gw);
    const bought = [
      await boughtOne('1.00', seller),
      await boughtOne('1.00', seller),
      await boughtOne('1.00', seller),
      await boughtOne('1.00', seller),
    ];
    const old = await boughtOne('1.00', seller);
    await confirmedDaysAgo(gw, old.purchaseId, 31);
    const first = bought[0] as Bought;
    await openDispute(first.token, { purchaseId: first.purchaseId, reason: 'x' });
    const res = await gw.api().get(`/v1/admin/publishers/${seller.id}/dispute-rate`).set(admin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      publisherId: seller.id,
      windowDays: 30,
      disputes: 1,
      confirmedPurchases: 4,
      disputeRate: '0.250000',
      suspended: false,
    });
    // Default minimum sample of 100 confirmed purchases: a 25% rate on four sales suspends nobody.
    expect(res.body.wouldSuspend).toBe(false);
  });

  it('When a publisher asks for a dispute rate, then it is 403, and for an unknown publisher the admin gets 404', async () => {
    expect(
      (await gw.api().get(`/v1/admin/publishers/${publisher.id}/dispute-rate`).set(bearer(publisher.apiKey))).status,
    ).toBe(403);
    expect((await gw.api().get('/v1/admin/publishers/pub_nope/dispute-rate').set(admin)).status).toBe(404);
  });

  describe('with a low minimum sample', () => {
    const strict = useGateway({ disputeRateSuspendThreshold: 0.2, disputeRateMinPurchases: 4 });

    async function sellerWithSales(count: number) {
      const seller = await createPublisher(strict);
      const sales: Bought[] = [];
      for (let i = 0; i < count; i++) {
        const ref = await provision(strict, operator);
        const token = assertion(operator, ref);
        const { id, res } = await buy(strict, seller, token, { amount: '1.00' });
        expect(res.status).toBe(200);
        sales.push({ ref, token, purchaseId: id });
      }
      return { seller, sales };
    }
    const open = (sale: Bought) =>
      strict.api().post('/v1/disputes').set(bearer(sale.token)).send({ purchaseId: sale.purchaseId, reason: 'x' });

    it('When a dispute takes the rate above the threshold, then the publisher is suspended and can create nothing', async () => {
      const { seller, sales } = await sellerWithSales(4);
      expect((await open(sales[0] as Bought)).status).toBe(201);
      const rate = await strict.api().get(`/v1/admin/publishers/${seller.id}/dispute-rate`).set(admin);
      expect(rate.body).toMatchObject({
        disputeRate: '0.250000',
        suspendThreshold: '0.2',
        wouldSuspend: true,
        suspended: true,
      });
      const blocked = await strict
        .api()
        .post('/v1/purchases')
        .set(bearer(seller.apiKey))
        .set('Idempotency-Key', idemKey())
        .send({ amount: '1.00', currency: 'EUR', description: 'x', channel: 'isp' });
      expect(blocked.status).toBe(403);
    });

    it('When the rate stays at or below the threshold, then the publisher keeps selling', async () => {
      const { seller, sales } = await sellerWithSales(5);
      expect((await open(sales[0] as Bought)).status).toBe(201);
      expect((await publisherRow(strict, seller.id)).suspendedAt).toBeNull();
    });

    it('When the publisher has fewer confirmed purchases than the minimum, then even a 100% rate does not suspend it', async () => {
      const { seller, sales } = await sellerWithSales(3);
      for (const sale of sales) expect((await open(sale)).status).toBe(201);
      expect((await publisherRow(strict, seller.id)).suspendedAt).toBeNull();
    });
  });
});

describe('A lost dispute on an invoiced purchase', () => {
  it('When the purchase is already on an invoice, then its refund is credited as a negative line on the next one', async () => {
    const op = await createOperator(gw);
    const ref = await provision(gw, op);
    const token = assertion(op, ref);
    const { id: purchaseId } = await buy(gw, publisher, token, { amount: '6.00' });
    const worker = await billing.startWorker();
    try {
      const first = await postBillingRun(gw, op);
      expect(first.status).toBe(202);
      expect((await waitForRun(gw, op, first.body.id)).status).toBe('done');
      const invoiced = await purchaseRow(gw, purchaseId);
      expect(invoiced.invoiceId).not.toBeNull();

      const opened = await openDispute(token, { purchaseId, reason: 'x' });
      const lost = await respond(publisher.apiKey, opened.body.id, { accept: true });
      expect(lost.body.status).toBe('lost');

      const second = await postBillingRun(gw, op);
      expect((await waitForRun(gw, op, second.body.id)).status).toBe('done');
      const invoices = await gw
        .api()
        .get('/v1/operator/invoices')
        .query({ billingRun: second.body.id })
        .set(bearer(op.apiKey));
      expect(invoices.status).toBe(200);
      expect(invoices.body.data).toHaveLength(1);
      expect(invoices.body.data[0].lines).toEqual([expect.objectContaining({ purchaseId, amount: '-6.00' })]);
      const refundRow = await gw.ctx.database.prisma.refund.findFirstOrThrow({ where: { disputeId: opened.body.id } });
      expect(refundRow.invoiceId).toBe(invoices.body.data[0].id);
    } finally {
      await worker.close();
    }
  });
});
