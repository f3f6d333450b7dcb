import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBilling, workBillingRun, DEFAULT_BILLING_DRIVE } from '../src/domain/billing.js';
import { Decimal } from '../src/shared/money.js';
import { sum } from './support/money.js';
import type { ChunkResult } from '../src/store/billing-chunks.js';
import { prepareRun, runSummary } from '../src/store/billing-runs.js';
import { databaseOn, type Connection } from '../src/store/database.js';
import { createPool } from '../src/store/db.js';
import { billingHarness, expectEachOnExactlyOneInvoice, refund, type BillingHarness } from './support/billing.js';
import { assertion, buy, createOperator, provision, unique, type OperatorFixture } from './support/harness.js';
import { TEST_DATABASE_URL } from './support/env.js';
import {
  billingRunChunks,
  billingRunStatus,
  documentCount,
  openBillingRun,
  purchaseRow,
  refuseInvoicesOf,
} from './support/rows.js';
import { useGateway, usePublisher } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q-billing-chunks') });
const publisher = usePublisher(gw);
let billing: BillingHarness;
/** Two more worker processes, each with its one pool. */
let processA: Connection;
let processB: Connection;
let probe: pg.Client;
let probePid: number;

beforeAll(async () => {
  billing = billingHarness(gw);
  // Their sessions are marked, so that holdAttemptCounts holds their counts and no one else's.
  const lanes = new URL(TEST_DATABASE_URL);
  lanes.searchParams.set('options', '-c kiosque.test_lane=on');
  processA = databaseOn(createPool(lanes.toString(), 2));
  processB = databaseOn(createPool(lanes.toString(), 3));
  probe = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await probe.connect();
  probePid = (await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
});
afterAll(async () => {
  await probe.end();
  await processA.close();
  await processB.close();
  await billing.close();
});

const db = () => gw.ctx.database.prisma;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function chunks(runId: string) {
  return db().$queryRaw<{ chunk_no: number; status: string; payer_from: string | null; payer_to: string | null }[]>`
    SELECT chunk_no, status, payer_from, payer_to FROM billing_run_chunks WHERE billing_run_id = ${runId} ORDER BY chunk_no`;
}

/** Backends waiting on a lock the probe connection holds, seen from another connection (a transaction's view of pg_stat_activity is frozen). */
async function blockedByProbe(): Promise<number> {
  const [row] = await db().$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${probePid}::int = ANY(pg_blocking_pids(pid))`;
  return row?.n ?? 0;
}

/**
 * Holds the counts of failed attempts that the two worker processes make, until the returned release: a trigger run
 * before any row of the statement is read (and so before its row lock) makes each count wait for an advisory lock
 * the probe holds, which shows in pg_blocking_pids. Only sessions marked kiosque.test_lane wait: another test file's
 * counts, in the same database at the same time, go through.
 */
async function holdAttemptCounts(): Promise<() => Promise<void>> {
  const name = unique('hold_counts')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_');
  await probe.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
  await probe.query(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('kiosque.test_lane', true) = 'on' THEN PERFORM pg_advisory_xact_lock_shared(hashtext('${name}')); END IF;
      RETURN NULL;
    END $$`);
  await probe.query(
    `CREATE TRIGGER ${name} BEFORE UPDATE OF attempts ON billing_run_chunks FOR EACH STATEMENT EXECUTE FUNCTION ${name}()`,
  );
  return async () => {
    await probe.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
    await probe.query(`DROP TRIGGER ${name} ON billing_run_chunks`);
    await probe.query(`DROP FUNCTION ${name}()`);
  };
}

describe('A billing run worked as chunks by several drivers at once', () => {
  it('When one driver is stuck in the first chunk, then another bills every other chunk meanwhile, and each purchase and refund is on exactly one document, totals to the cent', async () => {
    const op: OperatorFixture = await createOperator(gw);
    const tokens: string[] = [];
    for (let s = 0; s < 6; s++) tokens.push(assertion(op, await provision(gw, op)));
    // An earlier run bills one purchase; refunding it later needs a credit note naming that invoice.
    const early = await buy(gw, publisher, tokens[5] as string, { amount: '3.00' });
    expect(early.res.status).toBe(200);
    const first = await runBilling(gw.ctx.database, await openBillingRun(gw, op.id));
    expect(first).toMatchObject({ status: 'done', invoiceCount: 1, total: '3.00' });
    const creditRefund = await refund(gw, publisher.apiKey, early.id, '1.10');

    const purchaseIds: string[] = [];
    const amounts: Decimal[] = [];
    for (const [s, token] of tokens.entries()) {
      for (let p = 0; p < 2; p++) {
        const amount = `${s + 1}.${p + 1}5`;
        const { id, res } = await buy(gw, publisher, token, { amount });
        expect(res.status).toBe(200);
        purchaseIds.push(id);
        amounts.push(new Decimal(amount));
      }
    }
    // A refund of a purchase this same run bills: a negative line on its invoice.
    const sameRunRefund = await refund(gw, publisher.apiKey, purchaseIds[0] as string, '0.40');
    const owed = sum(amounts).minus('0.40').minus('1.10');

    const runId = await openBillingRun(gw, op.id);
    expect(await prepareRun(gw.ctx.database, runId, 1, DEFAULT_BILLING_DRIVE.limits, new Date())).toEqual({
      state: 'running',
    });
    const cut = await chunks(runId);
    expect(cut).toHaveLength(6);
    expect(cut[0]?.payer_from).toBeNull();
    expect(cut[5]?.payer_to).toBeNull();

    // The probe holds a purchase of the first chunk's payer, as a slow confirmation would.
    const [held] = await db().$queryRaw<{ id: string }[]>`
      SELECT p.id FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
      WHERE s.operator_id = ${op.id} AND p.invoice_id IS NULL AND COALESCE(s.holder_id, s.id) < ${cut[0]?.payer_to}
      LIMIT 1`;
    await probe.query('BEGIN');
    await probe.query('SELECT 1 FROM purchases WHERE id = $1 FOR UPDATE', [held?.id]);

    const byA: ChunkResult[] = [];
    const byB: ChunkResult[] = [];
    const drive = { ...DEFAULT_BILLING_DRIVE, pollMs: 50 };
    const a = runBilling(processA, runId, { ...drive, parallelism: 1, onChunk: (c) => byA.push(c) });
    await waitFor('driver A stuck in a chunk', async () => (await blockedByProbe()) === 1);
    const b = runBilling(processB, runId, { ...drive, parallelism: 2, onChunk: (c) => byB.push(c) });
    await waitFor('every chunk but the held one done', async () =>
      (await chunks(runId)).every((c) => c.status === 'done' || c.chunk_no === 0),
    );
    // The held chunk is still leased by driver A: nobody else can take it, and the run is not closed.
    await expect(
      probe.query('SELECT 1 FROM billing_run_chunks WHERE billing_run_id = $1 AND chunk_no = 0 FOR UPDATE NOWAIT', [
        runId,
      ]),
    ).rejects.toMatchObject({ code: '55P03' });
    await probe.query('ROLLBACK');
    expect(await billingRunStatus(gw, runId)).toBe('running');
    expect(byB.length).toBeGreaterThan(0);
    expect(byB.map((c) => c.chunkNo)).not.toContain(0);

    const outcomes = await Promise.all([a, b]);
    expect(byA.map((c) => c.chunkNo)).toContain(0);
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'done']);
    expect(outcomes.filter((o) => o.performed)).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ invoiceCount: 7, total: owed.toFixed(2) });
    expect([...byA, ...byB].map((c) => c.chunkNo).sort()).toEqual([0, 1, 2, 3, 4, 5]);

    await expectEachOnExactlyOneInvoice(db(), [early.id, ...purchaseIds], [creditRefund, sameRunRefund]);
    const creditNote = await db().invoice.findFirstOrThrow({ where: { billingRunId: runId, type: 'credit_note' } });
    expect(creditNote.correctsInvoiceId).toBe((await purchaseRow(gw, early.id)).invoiceId);
    expect(creditNote.total.toFixed(2)).toBe('-1.10');
    // Every document is the sum of its lines, and the journal's receivable moved by the run's total.
    const docs = await db().$queryRaw<{ id: string; total: string; lines: string }[]>`
      SELECT i.id, i.total::text, (SELECT sum(amount) FROM invoice_lines l WHERE l.invoice_id = i.id)::text AS lines
      FROM invoices i WHERE i.billing_run_id = ${runId}`;
    expect(docs).toHaveLength(7);
    for (const d of docs) expect(d.total).toBe(d.lines);
    const [receivable] = await db().$queryRaw<{ amount: string }[]>`
      SELECT sum(p.amount)::text AS amount FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
      WHERE e.billing_run_id = ${runId} AND e.kind IN ('invoice', 'credit_note') AND p.account = ${`operator:${op.id}:receivable`}`;
    expect(receivable?.amount).toBe(owed.toFixed(2));
  });
});

describe('A billing worker scoped to some operators', () => {
  it('When another operator has a running run with chunks to bill, then the scoped worker never touches it', async () => {
    const mine = await createOperator(gw);
    const other = await createOperator(gw);
    const mineBuy = await buy(gw, publisher, assertion(mine, await provision(gw, mine)), { amount: '1.50' });
    const otherBuy = await buy(gw, publisher, assertion(other, await provision(gw, other)), { amount: '2.50' });
    const mineRun = await openBillingRun(gw, mine.id);
    const otherRun = await openBillingRun(gw, other.id);
    for (const id of [mineRun, otherRun])
      expect(await prepareRun(gw.ctx.database, id, 100, DEFAULT_BILLING_DRIVE.limits, new Date())).toEqual({
        state: 'running',
      });

    // A fast chunk sweep and no job for either run: what bills mine is the sweep.
    await billing.startWorker({ scope: { operatorIds: [mine.id] }, chunkSweepIntervalMs: 50 });
    await waitFor('the scoped run done', async () => (await billingRunStatus(gw, mineRun)) === 'done');
    await expectEachOnExactlyOneInvoice(db(), [mineBuy.id]);
    // Many sweeps later, the other operator's run is as it was prepared.
    await new Promise((r) => setTimeout(r, 500));
    expect(await billingRunStatus(gw, otherRun)).toBe('running');
    expect(await billingRunChunks(gw, otherRun)).toMatchObject([{ status: 'pending', attempts: 0 }]);
    expect(await documentCount(gw, otherRun)).toBe(0);
    expect((await purchaseRow(gw, otherBuy.id)).invoiceId).toBeNull();
    expect(await billing.queue.getJob(otherRun)).toBeUndefined();

    // Left running it would wait for some other worker: finish it here.
    expect(await runBilling(gw.ctx.database, otherRun)).toMatchObject({
      status: 'done',
      invoiceCount: 1,
      total: '2.50',
    });
  });
});

describe('A chunk that fails by an error that would fail again', () => {
  it.each([
    { fault: 'hits a constraint', atCommit: false },
    // A deferred check fires at COMMIT, past the savepoint a failure is counted under: it must count all the same.
    { fault: 'fails a deferred check at its commit', atCommit: true },
  ])(
    'When a chunk $fault each time, then after its attempts the run ends failed with that error',
    async ({ atCommit }) => {
      const op = await createOperator(gw);
      const token = assertion(op, await provision(gw, op));
      const { id } = await buy(gw, publisher, token, { amount: '1.00' });
      // The fault: the database refuses this operator's invoices each time, as a broken constraint would.
      const allowInvoices = await refuseInvoicesOf(gw, op.id, { atCommit });

      const runId = await openBillingRun(gw, op.id);
      const outcome = await runBilling(gw.ctx.database, runId, { ...DEFAULT_BILLING_DRIVE, pollMs: 20 });
      await allowInvoices();
      expect(outcome).toMatchObject({ status: 'failed', performed: false });
      expect(outcome.error).toMatch(/refuses this invoice/);
      expect(await billingRunChunks(gw, runId)).toMatchObject([
        { status: 'pending', attempts: DEFAULT_BILLING_DRIVE.maxChunkAttempts },
      ]);
      // Nothing of the failed chunk was kept, and the next run of the operator is not blocked.
      expect(await documentCount(gw, runId)).toBe(0);
      expect((await purchaseRow(gw, id)).invoiceId).toBeNull();
      expect(await runBilling(gw.ctx.database, await openBillingRun(gw, op.id))).toMatchObject({
        status: 'done',
        invoiceCount: 1,
      });
      await expectEachOnExactlyOneInvoice(db(), [id]);
    },
  );

  it('When a driver is counting a failed attempt at a chunk, then no other driver can take that chunk meanwhile, and its attempts stop at the limit', async () => {
    const op = await createOperator(gw);
    const { id } = await buy(gw, publisher, assertion(op, await provision(gw, op)), { amount: '1.00' });
    const allowInvoices = await refuseInvoicesOf(gw, op.id);
    const runId = await openBillingRun(gw, op.id);
    expect(await prepareRun(gw.ctx.database, runId, 100, DEFAULT_BILLING_DRIVE.limits, new Date())).toEqual({
      state: 'running',
    });
    const max = DEFAULT_BILLING_DRIVE.maxChunkAttempts;
    // One attempt short of the limit: the next count ends the run, and a second one would pass the limit.
    await db().$executeRaw`UPDATE billing_run_chunks SET attempts = ${max - 1} WHERE billing_run_id = ${runId}`;

    const release = await holdAttemptCounts();
    let triedByB = 0;
    let seen: { counting: number; leaseHeld: boolean };
    let b: Promise<boolean> | undefined;
    let bReturned = false;
    const drive = { ...DEFAULT_BILLING_DRIVE, parallelism: 1 };
    const a = workBillingRun(processA, runId, drive);
    try {
      await waitFor('driver A counting its failed attempt', async () => (await blockedByProbe()) === 1);
      b = workBillingRun(processB, runId, { ...drive, onChunkError: () => (triedByB += 1) });
      void b.then(() => (bReturned = true));
      // B returns at once when A still holds the chunk; when it does not, B fails the chunk too and waits to count.
      await waitFor('driver B returned or counting beside A', async () => bReturned || (await blockedByProbe()) === 2);
      seen = {
        counting: await blockedByProbe(),
        leaseHeld: await probe
          .query('SELECT 1 FROM billing_run_chunks WHERE billing_run_id = $1 FOR UPDATE NOWAIT', [runId])
          .then(
            () => false,
            (error: { code?: string }) => error.code === '55P03',
          ),
      };
    } finally {
      await release();
    }
    await Promise.all([a, b]);
    await allowInvoices();

    // While A counted, A alone was counting and still held the chunk; B never attempted it, and the count stopped at
    // the limit.
    const [chunk] = await billingRunChunks(gw, runId);
    expect({ ...seen, triedByB, attempts: chunk?.attempts, status: chunk?.status }).toEqual({
      counting: 1,
      leaseHeld: true,
      triedByB: 0,
      attempts: max,
      status: 'pending',
    });
    expect(await runSummary(gw.ctx.database, runId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/refuses this invoice/) as unknown,
    });
    expect((await purchaseRow(gw, id)).invoiceId).toBeNull();
  });

  it('When a chunk is out of attempts while its run still reads running, then the next driver ends the run failed with the last error of the chunk, without billing it again', async () => {
    const op = await createOperator(gw);
    const { id } = await buy(gw, publisher, assertion(op, await provision(gw, op)), { amount: '1.00' });
    const runId = await openBillingRun(gw, op.id);
    expect(await prepareRun(gw.ctx.database, runId, 100, DEFAULT_BILLING_DRIVE.limits, new Date())).toEqual({
      state: 'running',
    });
    // What a driver finds when its claim read the run before the count that reached the limit committed.
    const max = DEFAULT_BILLING_DRIVE.maxChunkAttempts;
    await db().$executeRaw`
      UPDATE billing_run_chunks SET attempts = ${max}, error = 'the last failure' WHERE billing_run_id = ${runId}`;

    expect(await runBilling(gw.ctx.database, runId, { ...DEFAULT_BILLING_DRIVE, pollMs: 20 })).toMatchObject({
      status: 'failed',
      error: 'the last failure',
      performed: false,
    });
    expect(await billingRunChunks(gw, runId)).toMatchObject([{ status: 'pending', attempts: max }]);
    expect(await documentCount(gw, runId)).toBe(0);
    expect((await purchaseRow(gw, id)).invoiceId).toBeNull();
  });
});

describe('Invoice lines, guarded by the database without a unique index or foreign key per item', () => {
  it('When a line is changed, a billed purchase or refund moved or deleted, then the database refuses it', async () => {
    const op = await createOperator(gw);
    const token = assertion(op, await provision(gw, op));
    const { id } = await buy(gw, publisher, token, { amount: '2.00' });
    const refundId = await refund(gw, publisher.apiKey, id, '0.50');
    const unrefunded = await buy(gw, publisher, token, { amount: '1.00' });
    expect((await runBilling(gw.ctx.database, await openBillingRun(gw, op.id))).status).toBe('done');

    await expect(
      db().$executeRaw`UPDATE invoice_lines SET amount = 0 WHERE purchase_ids @> ARRAY[${id}] AND kind = 'charge'`,
    ).rejects.toThrow(/written once/);
    await expect(db().$executeRaw`UPDATE purchases SET invoice_id = NULL WHERE id = ${id}`).rejects.toThrow(
      /stays there/,
    );
    await expect(db().$executeRaw`UPDATE refunds SET invoice_id = NULL WHERE id = ${refundId}`).rejects.toThrow(
      /stays there/,
    );
    await expect(db().$executeRaw`DELETE FROM refunds WHERE id = ${refundId}`).rejects.toThrow(/is on an invoice line/);
    await expect(db().$executeRaw`DELETE FROM purchases WHERE id = ${unrefunded.id}`).rejects.toThrow(
      /is on an invoice line/,
    );
    // One line per document, publisher, kind and VAT rate, naming what it sums.
    const lines = await db().$queryRaw<
      { kind: string; amount: string; purchase_ids: string[]; refund_ids: string[] }[]
    >`
      SELECT kind, amount::text, purchase_ids, refund_ids FROM invoice_lines
      WHERE purchase_ids @> ARRAY[${id}] ORDER BY id`;
    expect(lines).toEqual([
      { kind: 'charge', amount: '3.00', purchase_ids: [id, unrefunded.id].sort(), refund_ids: [] },
      { kind: 'refund', amount: '-0.50', purchase_ids: [id], refund_ids: [refundId] },
    ]);
  });
});
