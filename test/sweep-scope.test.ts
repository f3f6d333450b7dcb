import { describe, expect, it } from 'vitest';
import { markBillingRunFailed, unfinishedBillingRunIds } from '../src/domain/billing.js';
import { sweepOverdueDisputes } from '../src/domain/disputes.js';
import { dueSubscriptions } from '../src/domain/subscriptions.js';
import { bearer, buy, createOperator, idemKey } from './support/harness.js';
import { useGateway, useOperator, usePublisher, useSubscriber } from './support/world.js';
import { disputeRow } from './support/rows.js';

/** Far enough ahead that the rows made here are due, whatever the sweep. */
const FAR_AHEAD = new Date(Date.now() + 100 * 24 * 3_600_000);

const gw = useGateway();
const operator = useOperator(gw);
const mine = usePublisher(gw);
const theirs = usePublisher(gw);
const subscriber = useSubscriber(gw, operator);

describe('Background sweeps can be scoped to the rows of one test (issue 10, item 13)', () => {
  it('When the renewal sweep is scoped to other publishers, then a due subscription of this one is not handed out', async () => {
    const created = await gw
      .api()
      .post('/v1/subscriptions')
      .set(bearer(mine.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({ plan: 'monthly', amount: '3.00', description: 'Monthly pass', channel: 'isp' });
    expect(created.status).toBe(201);
    const confirmed = await gw.api().post(`/v1/subscriptions/${created.body.id}/confirm`).set(bearer(subscriber.token));
    expect(confirmed.status).toBe(200);

    const ids = async (publisherIds: string[]) =>
      (await dueSubscriptions(gw.ctx.database.sql, FAR_AHEAD, 10_000, { publisherIds })).map((d) => d.id);
    expect(await ids([theirs.id])).not.toContain(created.body.id);
    expect(await ids([mine.id])).toEqual([created.body.id]);
  });

  it('When the dispute deadline sweep is scoped to other publishers, then an overdue dispute of this one stays open', async () => {
    const { id: purchaseId } = await buy(gw, mine, subscriber.token);
    const opened = await gw
      .api()
      .post('/v1/disputes')
      .set(bearer(subscriber.token))
      .send({ purchaseId, reason: 'Not delivered' });
    expect(opened.status).toBe(201);
    const url = gw.ctx.config.publicUrl;

    expect(await sweepOverdueDisputes(gw.ctx.database, url, FAR_AHEAD, 100, { publisherIds: [theirs.id] })).toBe(0);
    expect((await disputeRow(gw, opened.body.id)).status).toBe('open');
    expect(await sweepOverdueDisputes(gw.ctx.database, url, FAR_AHEAD, 100, { publisherIds: [mine.id] })).toBe(1);
    expect((await disputeRow(gw, opened.body.id)).status).toBe('lost');
  });

  it("When the billing recovery sweep is scoped to another operator, then this operator's unfinished run is not listed", async () => {
    const other = await createOperator(gw);
    const run = await gw
      .api()
      .post('/v1/operator/billing-runs')
      .set(bearer(operator.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expect(run.status).toBe(202);
    expect(await unfinishedBillingRunIds(gw.ctx.database.sql, { operatorIds: [other.id] })).not.toContain(run.body.id);
    const ownRuns = await gw.ctx.database.prisma.billingRun.findMany({
      where: { operatorId: operator.id },
      select: { id: true },
    });
    const listed = await unfinishedBillingRunIds(gw.ctx.database.sql, { operatorIds: [operator.id] });
    expect(ownRuns.map((r) => r.id)).toEqual(expect.arrayContaining(listed));
    // No worker serves this file: left queued, the run would wait for another file's (unscoped) billing sweep.
    await markBillingRunFailed(gw.ctx.database.sql, run.body.id, 'left by test/sweep-scope.test.ts on purpose');
  });
});
