import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/domain/credentials.js';
import { billingRunById } from '../src/store/billing-run-records.js';
import {
  operatorBillingRuns,
  publisherSettlementRecords,
  publisherSubscriptions,
  subscriberPurchases,
  subscriberSubscriptions,
} from '../src/store/listings.js';
import { findOperatorByApiKeyHash } from '../src/store/operators.js';
import { findOperator, updateOperator, updatePublisherProfile } from '../src/store/profiles.js';
import { findPublisherByApiKeyHash } from '../src/store/publishers.js';
import { findPurchase } from '../src/store/purchases.js';
import { runSettlements } from '../src/store/settlements.js';
import { findSubscription } from '../src/store/subscriptions.js';
import { useBillingHarness, postBillingRun, waitForRun } from './support/billing.js';
import {
  assertion,
  bearer,
  buy,
  createPublisher,
  createSubscriptionOffer,
  provisionedSubscriber,
  unique,
} from './support/harness.js';
import { useGateway, useOperator } from './support/world.js';

/*
 * Prisma's typed client hands back its own Decimal and plain strings; src/store/listings.ts and profiles.ts map
 * them to the records pg reads hand over. Each test reads the same rows both ways and expects the same records.
 */

const gw = useGateway({ queuePrefix: unique('q-typed') });
useBillingHarness(gw, { worker: true });
const operator = useOperator(gw, { webhookUrl: 'https://operator.example/hooks' });

const later = () => new Date(Date.now() + 24 * 60 * 60 * 1000);

describe("Records through Prisma's typed client", () => {
  it('When a subscriber lists its purchases and subscriptions, then each record is the one pg reads of its row', async () => {
    const publisher = await createPublisher(gw, { vatRate: '0.055', pointsPerEuro: '1.50' });
    const subscriber = await provisionedSubscriber(gw, operator);
    const token = assertion(operator, subscriber.externalRef);
    await buy(gw, publisher, token, { amount: '1.00' });
    await buy(gw, publisher, token, { amount: '12.34', channel: 'sms', vatRate: '0.20' });
    await buy(gw, publisher, token, { amount: '45.00' });
    const offer = await createSubscriptionOffer(gw, publisher, { amount: '3.99' });
    expect((await gw.api().post(`/v1/subscriptions/${offer.id}/confirm`).set(bearer(token))).status).toBe(200);
    const { database } = gw.ctx;

    const purchases = await subscriberPurchases(database, subscriber.id, { take: 10, before: null });
    expect(purchases).toHaveLength(4);
    for (const record of purchases) expect(record).toEqual(await findPurchase(database.sql, record.id));
    expect(purchases.map((p) => p.amount.toFixed(2))).toEqual(['3.99', '45.00', '12.34', '1.00']);
    expect(purchases[1]).toMatchObject({ status: 'declined', commissionRate: null, confirmedAt: null });

    const subscriptions = await subscriberSubscriptions(database, subscriber.id, { take: 10, before: null });
    expect(subscriptions.map((s) => s.id)).toEqual([offer.id]);
    expect(subscriptions[0]).toEqual(await findSubscription(database.sql, offer.id));
  });

  it('When a pending subscription offer is past its expiry, then it lists as expired and no longer as pending', async () => {
    const publisher = await createPublisher(gw);
    const pending = await createSubscriptionOffer(gw, publisher);
    const ids = async (status: 'pending' | 'expired', now: Date) =>
      (await publisherSubscriptions(gw.ctx.database, publisher.id, { take: 10, before: null, status, now })).map(
        (s) => s.id,
      );

    expect(await ids('pending', new Date())).toEqual([pending.id]);
    expect(await ids('expired', new Date())).toEqual([]);
    expect(await ids('pending', later())).toEqual([]);
    expect(await ids('expired', later())).toEqual([pending.id]);
  });

  it('When pages of a listing are read below a cursor, then they are the newest first and never overlap', async () => {
    const publisher = await createPublisher(gw);
    const offers = [];
    for (let i = 0; i < 3; i += 1) offers.push((await createSubscriptionOffer(gw, publisher)).id);
    const page = (before: string | null) =>
      publisherSubscriptions(gw.ctx.database, publisher.id, { take: 2, before, status: null, now: new Date() });

    const first = (await page(null)).map((s) => s.id);
    const second = (await page(first[1] ?? null)).map((s) => s.id);

    expect([...first, ...second]).toEqual([...offers].reverse());
  });

  it("When an operator's billing run is done, then its listed run and settlements are the records pg reads", async () => {
    const publisher = await createPublisher(gw, { commissionRates: { isp: '0.1250' } });
    const subscriber = await provisionedSubscriber(gw, operator);
    await buy(gw, publisher, assertion(operator, subscriber.externalRef), { amount: '7.77' });
    const posted = await postBillingRun(gw, operator);
    expect(posted.status).toBe(202);
    expect((await waitForRun(gw, operator, posted.body.id)).status).toBe('done');
    const { database } = gw.ctx;

    const [run] = await operatorBillingRuns(database, operator.id, { take: 1, before: null });
    expect(run?.id).toBe(posted.body.id);
    expect(run).toEqual(await billingRunById(database.sql, posted.body.id));

    const live = await publisherSettlementRecords(database, publisher.id, { take: 10, before: null, sandbox: false });
    const byRun = (await runSettlements(database.sql, posted.body.id)).filter((s) => s.publisherId === publisher.id);
    expect(live).toEqual(byRun);
    expect(live.map((s) => s.gross.toFixed(2))).toEqual(['7.77']);
    expect(await publisherSettlementRecords(database, publisher.id, { take: 10, before: null, sandbox: true })).toEqual(
      [],
    );
  });

  it('When the admin reads and changes an operator, then the record is the one the pg API-key lookup reads', async () => {
    const { database } = gw.ctx;
    const byKey = () => findOperatorByApiKeyHash(database.sql, hashApiKey(operator.apiKey));

    expect(await findOperator(database, operator.id)).toEqual(await byKey());
    const changed = await updateOperator(database, operator.id, { pointsEnabled: true });
    expect(changed?.pointsEnabled).toBe(true);
    expect(changed).toEqual(await byKey());
  });

  it('When a publisher changes its profile, then the record is the one the pg API-key lookup reads', async () => {
    const publisher = await createPublisher(gw, { legalName: 'Kept SA', vatRate: '0.021' });
    const { database } = gw.ctx;

    const changed = await updatePublisherProfile(database, publisher.id, { supportUrl: null, pointsPerEuro: '2.25' });

    expect(changed?.legalName).toBe('Kept SA');
    expect(changed?.pointsPerEuro.toFixed(2)).toBe('2.25');
    expect(changed).toEqual(await findPublisherByApiKeyHash(database.sql, hashApiKey(publisher.apiKey)));
  });

  it('When the row to change does not exist, then the change answers null and not an error', async () => {
    const { database } = gw.ctx;

    expect(await updateOperator(database, 'op_missing', { pointsEnabled: true })).toBeNull();
    expect(await updatePublisherProfile(database, 'pub_missing', { legalName: 'Nobody' })).toBeNull();
    expect(await findOperator(database, 'op_missing')).toBeNull();
  });
});
