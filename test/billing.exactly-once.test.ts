import { describe, expect, it } from 'vitest';
import { runBilling } from '../src/domain/billing.js';
import { Decimal } from '../src/shared/money.js';
import { sum } from './support/money.js';
import { enqueueBillingRun } from '../src/queue/billing.js';
import {
  useBillingHarness,
  expectEachOnExactlyOneInvoice,
  postBillingRun,
  refund,
  waitForRun,
} from './support/billing.js';
import { assertion, buy, createOperator, provision, unique, type OperatorFixture } from './support/harness.js';
import { useGateway, usePublisher } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q-billing-once') });
const publisher = usePublisher(gw);
const billing = useBillingHarness(gw);

/** An operator with a few households' worth of purchases and refunds, none billed yet. */
async function billableOperator(): Promise<{
  op: OperatorFixture;
  purchaseIds: string[];
  refundIds: string[];
  owed: Decimal;
}> {
  const op = await createOperator(gw);
  const purchaseIds: string[] = [];
  const refundIds: string[] = [];
  let owed = new Decimal(0);
  for (let s = 0; s < 4; s++) {
    const token = assertion(op, await provision(gw, op));
    for (let p = 0; p < 3; p++) {
      const amount = `${s + 1}.${p}5`;
      const { id, res } = await buy(gw, publisher, token, { amount });
      expect(res.status).toBe(200);
      purchaseIds.push(id);
      owed = owed.plus(amount);
    }
    refundIds.push(await refund(gw, publisher.apiKey, purchaseIds[purchaseIds.length - 1] as string, '0.50'));
    owed = owed.minus('0.50');
  }
  return { op, purchaseIds, refundIds, owed };
}

/** Each item the operator's lines name (lines are stored summed, with the ids of what they sum), in line order. */
async function linesOf(operatorId: string) {
  return gw.ctx.database.prisma.$queryRaw<
    { invoice_id: string; purchase_id: string; refund_id: string | null; amount: string }[]
  >`
    SELECT l.invoice_id, x.purchase_id, x.refund_id,
           (CASE WHEN x.refund_id IS NULL THEN p.amount ELSE -r.amount END)::text AS amount
    FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
    CROSS JOIN LATERAL unnest(l.purchase_ids, l.refund_ids) WITH ORDINALITY AS x(purchase_id, refund_id, n)
    JOIN purchases p ON p.id = x.purchase_id LEFT JOIN refunds r ON r.id = x.refund_id
    WHERE i.operator_id = ${operatorId} ORDER BY l.id, x.n`;
}

describe('Exactly once, whatever overlaps', () => {
  it('When two runs of one operator go at the same time, then each purchase and refund lands on exactly one invoice', async () => {
    const { op, purchaseIds, refundIds, owed } = await billableOperator();
    const [a, b] = await Promise.all([postBillingRun(gw, op), postBillingRun(gw, op)]);
    const outcomes = await Promise.all([
      runBilling(gw.ctx.database, a.body.id),
      runBilling(gw.ctx.database, b.body.id),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'done']);
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, purchaseIds, refundIds);
    expect(sum(outcomes.map((o) => o.total)).toFixed(2)).toBe(owed.toFixed(2));
    // A household is billed by one run or the other, never split: its refund follows its purchases.
    expect(outcomes.map((o) => o.invoiceCount).sort()).toEqual([0, 4]);
  });

  it('When the same run is processed twice at once and then again, then the rows are those of one clean run', async () => {
    const { op, purchaseIds, refundIds, owed } = await billableOperator();
    const runId = (await postBillingRun(gw, op)).body.id as string;
    const both = await Promise.all([runBilling(gw.ctx.database, runId), runBilling(gw.ctx.database, runId)]);
    expect(both.map((o) => o.performed).sort()).toEqual([false, true]);
    expect(both.map((o) => o.total)).toEqual([owed.toFixed(2), owed.toFixed(2)]);
    const afterFirst = await linesOf(op.id);
    const again = await runBilling(gw.ctx.database, runId);
    expect(again).toMatchObject({ performed: false, status: 'done', invoiceCount: 4, total: owed.toFixed(2) });
    expect(await linesOf(op.id)).toEqual(afterFirst);
    expect(afterFirst).toHaveLength(purchaseIds.length + refundIds.length);
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, purchaseIds, refundIds);
  });

  it('When a run is enqueued twice, then the queue holds one job and the run is billed once', async () => {
    const { op, purchaseIds, refundIds, owed } = await billableOperator();
    const runId = (await postBillingRun(gw, op)).body.id as string;
    await enqueueBillingRun(billing.queue, runId);
    await enqueueBillingRun(billing.queue, runId);
    // The POST enqueued it once already; with these two that makes three adds of one job id.
    const jobs = await billing.queue.getJobs(['waiting', 'active', 'completed', 'delayed']);
    expect(jobs.filter((job) => job.data.billingRunId === runId)).toHaveLength(1);
    await billing.startWorker();
    const run = await waitForRun(gw, op, runId);
    expect(run).toMatchObject({ status: 'done', invoiceCount: 4, total: owed.toFixed(2) });
    await expectEachOnExactlyOneInvoice(gw.ctx.database.prisma, purchaseIds, refundIds);
  });
});
