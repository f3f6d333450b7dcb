import { describe, expect, it } from 'vitest';
import { listPublisherPurchases } from '../src/domain/publisher-lists.js';
import { findPurchase } from '../src/store/purchases.js';
import { onPool } from '../src/store/sql.js';
import { assertion, buy, createPublisher, createPurchase, provision } from './support/harness.js';
import { useGateway, useOperator } from './support/world.js';

const gw = useGateway();
const operator = useOperator(gw);

describe("a publisher's purchase listing (src/store/listings.ts)", () => {
  it('When purchases are listed, then each row is the very record the purchase path reads, column for column', async () => {
    const publisher = await createPublisher(gw);
    const token = assertion(operator, await provision(gw, operator));
    await buy(gw, publisher, token, { amount: '1.00' });
    await createPurchase(gw, publisher);
    await buy(gw, publisher, token, { amount: '45.00' });
    const sql = onPool(gw.ctx.database.pool);

    const listed = await listPublisherPurchases(gw.ctx.database, publisher.id, { limit: 10 });
    expect(listed).toHaveLength(3);
    for (const record of listed) {
      expect(record).toEqual(await findPurchase(sql, record.id));
    }
  });

  it('When a pending purchase is past its expiry, then it lists as expired and no longer as pending', async () => {
    const publisher = await createPublisher(gw);
    const pending = await createPurchase(gw, publisher);
    const later = new Date(Date.now() + 24 * 60 * 60 * 1000);

    const ids = async (status: 'pending' | 'expired', now: Date) =>
      (await listPublisherPurchases(gw.ctx.database, publisher.id, { limit: 10, status }, now)).map((p) => p.id);
    expect(await ids('pending', new Date())).toEqual([pending.id]);
    expect(await ids('expired', new Date())).toEqual([]);
    expect(await ids('pending', later)).toEqual([]);
    expect(await ids('expired', later)).toEqual([pending.id]);
  });
});
