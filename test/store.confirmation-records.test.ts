import { describe, expect, it } from 'vitest';
import { monthStart, weekStart } from '../src/domain/periods.js';
import { findPurchase, loadForConfirmation } from '../src/store/purchases.js';
import { inTransaction } from '../src/store/sql.js';
import { findSubscription, lockForSubscriptionConfirmation } from '../src/store/subscriptions.js';
import { createPurchase, createSubscriptionOffer, provisionedSubscriber } from './support/harness.js';
import { useGateway, useOperator, usePublisher } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw);
const publisher = usePublisher(gw);

const now = new Date();
const periods = { weekStart: weekStart(now), monthStart: monthStart(now) };

describe("A confirmation's read takes the item beside its subscriber and seller", () => {
  it('When a purchase is read with them, then its record holds the fields of a purchase read alone, no more', async () => {
    const subscriber = await provisionedSubscriber(gw, operator);
    const { id } = await createPurchase(gw, publisher);
    const alone = await findPurchase(gw.ctx.database.sql, id);
    const context = await inTransaction(gw.ctx.database.pool, (sql) =>
      loadForConfirmation(sql, subscriber, id, periods),
    );
    expect(context?.subscriber.id).toBe(subscriber.id);
    expect(context?.purchase).toEqual(alone);
    expect(Object.keys(context?.purchase ?? {}).sort()).toEqual(Object.keys(alone ?? {}).sort());
    expect(context?.seller?.id).toBe(publisher.id);
  });

  it('When an offer is read with them, then its record holds the fields of an offer read alone, no more', async () => {
    const subscriberId = (await provisionedSubscriber(gw, operator)).id;
    const { id } = await createSubscriptionOffer(gw, publisher);
    const alone = await findSubscription(gw.ctx.database.sql, id);
    const context = await inTransaction(gw.ctx.database.pool, (sql) =>
      lockForSubscriptionConfirmation(sql, subscriberId, id, periods),
    );
    expect(context?.subscription).toEqual(alone);
    expect(Object.keys(context?.subscription ?? {}).sort()).toEqual(Object.keys(alone ?? {}).sort());
    expect(context?.seller?.id).toBe(publisher.id);
  });
});
