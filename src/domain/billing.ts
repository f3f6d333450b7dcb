import { within, type SweepScope } from '../store/sweep-scope.js';
import type { BillingRun } from '../generated/prisma/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { newId } from '../ids.js';
import type { Db, Tx } from '../store/db.js';
import { vatIncludedSql } from './billing-sql.js';
import { notFound } from './errors.js';
import { formatAmount } from './money.js';

export const BILLING_RUN_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type BillingRunStatus = (typeof BILLING_RUN_STATUSES)[number];

/** Purchase statuses that were confirmed once and so are owed, whatever happened since. */
const BILLABLE_STATUSES = Prisma.sql`('confirmed', 'refunded', 'disputed')`;

/** A run over a million purchases is one transaction; it must not be cut short by Prisma's 5 s default. */
export const BILLING_TRANSACTION_OPTIONS = { maxWait: 60_000, timeout: 15 * 60_000 } as const;

export function billingRunResource(run: BillingRun) {
  return {
    id: run.id,
    object: 'billing_run',
    through: run.through.toISOString(),
    status: run.status as BillingRunStatus,
    invoiceCount: run.invoiceCount,
    total: formatAmount(run.total.toString()),
    error: run.error,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

export async function createBillingRun(tx: Tx, operatorId: string, through: Date, now = new Date()): Promise<BillingRun> {
  return tx.billingRun.create({
    data: { id: newId('brun', now.getTime()), operatorId, through, status: 'queued', createdAt: now },
  });
}

/** An operator sees only its own runs; anyone else's is not found, not forbidden. */
export async function operatorBillingRun(db: Db | Tx, operatorId: string, billingRunId: string): Promise<BillingRun> {
  const run = await db.billingRun.findUnique({ where: { id: billingRunId } });
  if (!run || run.operatorId !== operatorId) throw notFound('Billing run');
  return run;
}

export interface RunBillingOptions {
  /** Test hook: holds the finished transaction open so a test can kill the worker mid-run. */
  pauseBeforeCommitMs?: number;
  onPause?: () => void;
  now?: Date;
}

export interface BillingOutcome {
  billingRunId: string;
  status: BillingRunStatus;
  invoiceCount: number;
  total: string;
  /** False when the run was already done and this call changed nothing. */
  performed: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function insertInvoices(tx: Tx, run: BillingRun, now: Date): Promise<void> {
  // Invoice ids keep newId's layout (prefix, time, 16 Crockford symbols); hex digits are Crockford symbols.
  const idStem = newId('inv', now.getTime()).slice(0, 'inv_'.length + 10);
  await tx.$executeRaw`
    INSERT INTO invoices (id, billing_run_id, operator_id, subscriber_id, status, created_at)
    SELECT ${idStem} || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)),
           ${run.id}, ${run.operatorId}, payer.subscriber_id, 'issued', ${now}
    FROM (
      SELECT COALESCE(s.holder_id, s.id) AS subscriber_id
      FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
      WHERE s.operator_id = ${run.operatorId} AND p.invoice_id IS NULL
        AND p.status IN ${BILLABLE_STATUSES} AND p.confirmed_at <= ${run.through}
      UNION
      SELECT COALESCE(s.holder_id, s.id)
      FROM refunds r JOIN purchases p ON p.id = r.purchase_id JOIN subscribers s ON s.id = p.subscriber_id
      WHERE s.operator_id = ${run.operatorId} AND r.invoice_id IS NULL AND r.created_at <= ${run.through}
    ) payer
    ON CONFLICT (billing_run_id, subscriber_id) DO NOTHING`;
}

/**
 * Claims each purchase by setting its invoice_id where it is still NULL: a
 * concurrent claimer waits on the row lock and then re-checks, so a purchase
 * lands on one invoice only. Its charge line is written by the same statement.
 */
async function claimPurchases(tx: Tx, run: BillingRun): Promise<void> {
  await tx.$executeRaw`
    WITH claimed AS (
      UPDATE purchases p SET invoice_id = i.id
      FROM subscribers s, invoices i
      WHERE s.id = p.subscriber_id AND s.operator_id = ${run.operatorId}
        AND i.billing_run_id = ${run.id} AND i.subscriber_id = COALESCE(s.holder_id, s.id)
        AND p.invoice_id IS NULL AND p.status IN ${BILLABLE_STATUSES} AND p.confirmed_at <= ${run.through}
      RETURNING p.id, p.invoice_id, p.publisher_id, p.description, p.amount
    )
    INSERT INTO invoice_lines (invoice_id, publisher_id, purchase_id, description, amount, vat_amount)
    SELECT invoice_id, publisher_id, id, description, amount, ${vatIncludedSql(Prisma.sql`amount`)} FROM claimed`;
}

/** Refunds are credited once their purchase is on a bill that was not reported unpaid, as negative lines; the same claim rule holds. */
async function claimRefunds(tx: Tx, run: BillingRun): Promise<void> {
  await tx.$executeRaw`
    WITH claimed AS (
      UPDATE refunds r SET invoice_id = i.id
      FROM purchases p, subscribers s, invoices i, invoices charged
      WHERE p.id = r.purchase_id AND s.id = p.subscriber_id AND s.operator_id = ${run.operatorId}
        -- A charge the subscriber never paid was charged back for what was not refunded;
        -- crediting its refund too would hand over money nobody collected.
        AND charged.id = p.invoice_id AND charged.status <> 'unpaid'
        AND i.billing_run_id = ${run.id} AND i.subscriber_id = COALESCE(s.holder_id, s.id)
        AND r.invoice_id IS NULL AND r.created_at <= ${run.through} AND p.invoice_id IS NOT NULL
      RETURNING r.id, r.invoice_id, r.amount, p.id AS purchase_id, p.publisher_id, p.description
    )
    INSERT INTO invoice_lines (invoice_id, publisher_id, purchase_id, refund_id, description, amount, vat_amount)
    SELECT invoice_id, publisher_id, purchase_id, id, 'Refund: ' || description, -amount,
           ${vatIncludedSql(Prisma.sql`(-amount)`)}
    FROM claimed`;
}

/** Totals are sums of lines; invoices another run emptied under us are dropped; the run records its result. */
async function closeRun(tx: Tx, run: BillingRun, now: Date): Promise<{ invoiceCount: number; total: string }> {
  await tx.$executeRaw`
    UPDATE invoices i SET total = t.total, vat_amount = t.vat
    FROM (
      SELECT l.invoice_id, sum(l.amount) AS total, sum(l.vat_amount) AS vat
      FROM invoice_lines l JOIN invoices inv ON inv.id = l.invoice_id
      WHERE inv.billing_run_id = ${run.id}
      GROUP BY l.invoice_id
    ) t
    WHERE i.id = t.invoice_id`;
  await tx.$executeRaw`
    DELETE FROM invoices i
    WHERE i.billing_run_id = ${run.id} AND NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id)`;
  const [summary] = await tx.$queryRaw<{ invoice_count: number; total: string }[]>`
    UPDATE billing_runs b SET status = 'done', finished_at = ${now}, error = NULL,
      invoice_count = s.invoice_count, total = s.total
    FROM (SELECT count(*)::int AS invoice_count, COALESCE(sum(total), 0) AS total FROM invoices WHERE billing_run_id = ${run.id}) s
    WHERE b.id = ${run.id}
    RETURNING b.invoice_count, b.total::text AS total`;
  if (!summary) throw new Error(`billing run ${run.id} vanished while it ran`);
  return { invoiceCount: summary.invoice_count, total: formatAmount(summary.total) };
}

/**
 * Performs a billing run, all of it in one transaction: it commits whole or
 * not at all, so a worker killed half-way leaves nothing behind and the retry
 * starts clean. Running it again once done changes nothing.
 */
export async function runBilling(db: Db, billingRunId: string, options: RunBillingOptions = {}): Promise<BillingOutcome> {
  const now = options.now ?? new Date();
  // Committed on its own so that readers see the run as running while the long transaction works.
  await db.billingRun.updateMany({
    where: { id: billingRunId, status: { in: ['queued', 'running', 'failed'] } },
    data: { status: 'running', startedAt: now },
  });
  return db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM billing_runs WHERE id = ${billingRunId} FOR UPDATE`;
    const run = await tx.billingRun.findUnique({ where: { id: billingRunId } });
    if (!run) throw notFound('Billing run');
    if (run.status === 'done') {
      return { billingRunId, status: 'done', invoiceCount: run.invoiceCount, total: formatAmount(run.total.toString()), performed: false };
    }
    // Runs of one operator take turns: they would otherwise claim the same rows in different orders and deadlock.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('kiosque.billing'), hashtext(${run.operatorId}))`;
    await insertInvoices(tx, run, now);
    await claimPurchases(tx, run);
    await claimRefunds(tx, run);
    const summary = await closeRun(tx, run, new Date());
    if (options.pauseBeforeCommitMs) {
      options.onPause?.();
      await sleep(options.pauseBeforeCommitMs);
    }
    return { billingRunId, status: 'done', ...summary, performed: true };
  }, BILLING_TRANSACTION_OPTIONS);
}

/** Only for a run whose last attempt failed: a run still being retried stays running. */
export async function markBillingRunFailed(db: Db, billingRunId: string, message: string, now = new Date()): Promise<void> {
  await db.billingRun.updateMany({
    where: { id: billingRunId, status: { in: ['queued', 'running'] } },
    data: { status: 'failed', error: message.slice(0, 1000), finishedAt: now },
  });
}

/** Runs PostgreSQL says are unfinished: the queue must hold a job for each, whatever Redis lost. */
export async function unfinishedBillingRunIds(db: Db, scope: SweepScope = {}): Promise<string[]> {
  const runs = await db.billingRun.findMany({
    where: { status: { in: ['queued', 'running'] }, ...within('operatorId', scope.operatorIds) },
    select: { id: true },
    orderBy: { id: 'asc' },
  });
  return runs.map((r) => r.id);
}
