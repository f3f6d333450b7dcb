import { within, type SweepScope } from '../store/sweep-scope.js';
import {
  pointsClosingPostings,
  pointsNetSql,
  pointsNonZeroSql,
  pointsSettlementColumns,
  pointsSettlementColumnTypes,
} from '../store/points-settlement.js';
import type { BillingRun } from '../generated/prisma/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { newId } from '../ids.js';
import type { Db, Tx } from '../store/db.js';
import { roundHalfEvenCentsSql, vatIncludedSql } from './billing-sql.js';
import { accounts, EUR, unsettledRange } from './ledger.js';
import { notFound } from './errors.js';
import { formatAmount } from './money.js';

export const BILLING_RUN_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type BillingRunStatus = (typeof BILLING_RUN_STATUSES)[number];

/** Purchase statuses that were confirmed once and so are owed, whatever happened since. */
const BILLABLE_STATUSES = Prisma.sql`('confirmed', 'refunded', 'disputed')`;

/** A run over a million purchases is one transaction; it must not be cut short by Prisma's 5 s default. */
export const BILLING_TRANSACTION_OPTIONS = { maxWait: 60_000, timeout: 15 * 60_000 } as const;
const BILLING_STATEMENT_TIMEOUT_MS = 5 * 60_000;
const BILLING_LOCK_TIMEOUT_MS = 60_000;

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

export async function createBillingRun(
  tx: Tx,
  operatorId: string,
  through: Date,
  now = new Date(),
): Promise<BillingRun> {
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

/** Invoice ids keep newId's layout (prefix, time, 16 Crockford symbols); hex digits are Crockford symbols. */
function idStem(prefix: string, now: Date): string {
  return newId(prefix, now.getTime()).slice(0, prefix.length + 1 + 10);
}
const randomIdTail = Prisma.sql`upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 16))`;

/** The VAT rate of a purchase: its own, else its subscription's, else its publisher's (API.md, "VAT by product"). */
const purchaseVatRate = Prisma.sql`COALESCE(c.vat_rate, sub.vat_rate, pub.vat_rate)`;

async function insertInvoices(tx: Tx, run: BillingRun, now: Date): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO invoices (id, billing_run_id, operator_id, subscriber_id, status, type, created_at)
    SELECT ${idStem('inv', now)} || ${randomIdTail}, ${run.id}, ${run.operatorId}, payer.subscriber_id, 'issued', 'invoice', ${now}
    FROM (
      SELECT DISTINCT COALESCE(s.holder_id, s.id) AS subscriber_id
      FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
      WHERE s.operator_id = ${run.operatorId} AND p.invoice_id IS NULL
        AND p.status IN ${BILLABLE_STATUSES} AND p.confirmed_at <= ${run.through}
    ) payer`;
}

/**
 * Claims each purchase by setting its invoice_id where it is still NULL: a
 * concurrent claimer waits on the row lock and then re-checks, so a purchase
 * lands on one invoice only. Its charge line is written by the same statement,
 * and the journal's view of it starts: billed in full, commission on all of it.
 */
async function claimPurchases(tx: Tx, run: BillingRun): Promise<void> {
  const commission = roundHalfEvenCentsSql(Prisma.sql`(COALESCE(p.commission_rate, 0) * p.amount)`);
  await tx.$executeRaw`
    WITH claimed AS (
      UPDATE purchases p SET invoice_id = i.id, billed_remaining = p.amount, commission_amount = ${commission}
      FROM subscribers s, invoices i
      WHERE s.id = p.subscriber_id AND s.operator_id = ${run.operatorId}
        AND i.billing_run_id = ${run.id} AND i.type = 'invoice' AND i.subscriber_id = COALESCE(s.holder_id, s.id)
        AND p.invoice_id IS NULL AND p.status IN ${BILLABLE_STATUSES} AND p.confirmed_at <= ${run.through}
      RETURNING p.id, p.invoice_id, p.publisher_id, p.subscription_id, p.description, p.amount, p.vat_rate
    )
    INSERT INTO invoice_lines (invoice_id, publisher_id, purchase_id, description, amount, vat_rate, vat_amount)
    SELECT c.invoice_id, c.publisher_id, c.id, c.description, c.amount, ${purchaseVatRate},
           ${vatIncludedSql(Prisma.sql`c.amount`, purchaseVatRate)}
    FROM claimed c JOIN publishers pub ON pub.id = c.publisher_id LEFT JOIN subscriptions sub ON sub.id = c.subscription_id`;
}

/**
 * Refunds not yet credited whose purchase was billed by an earlier run are
 * credited on a credit note that names that invoice: one per corrected invoice
 * in this run. A charge the subscriber never paid was charged back for what was
 * not refunded, and the refunds known then were posted with it; crediting them
 * again would hand over money nobody collected.
 */
async function insertCreditNotes(tx: Tx, run: BillingRun, now: Date): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO invoices (id, billing_run_id, operator_id, subscriber_id, status, type, corrects_invoice_id, created_at)
    SELECT ${idStem('cn', now)} || ${randomIdTail}, ${run.id}, ${run.operatorId}, x.subscriber_id, 'issued', 'credit_note', x.id, ${now}
    FROM (
      SELECT DISTINCT charged.id, charged.subscriber_id
      FROM refunds r JOIN purchases p ON p.id = r.purchase_id JOIN invoices charged ON charged.id = p.invoice_id
      WHERE r.invoice_id IS NULL AND r.created_at <= ${run.through}
        AND charged.operator_id = ${run.operatorId} AND charged.billing_run_id <> ${run.id} AND charged.status <> 'unpaid'
    ) x`;
}

/** Each refund lands on this run's invoice of its purchase (same run: a negative line) or on the credit note correcting it. */
async function claimRefunds(tx: Tx, run: BillingRun): Promise<void> {
  await tx.$executeRaw`
    WITH claimed AS (
      UPDATE refunds r SET invoice_id = doc.id
      FROM purchases p, invoices charged, invoices doc
      WHERE p.id = r.purchase_id AND charged.id = p.invoice_id
        AND charged.operator_id = ${run.operatorId} AND charged.status <> 'unpaid'
        AND r.invoice_id IS NULL AND r.created_at <= ${run.through}
        AND doc.billing_run_id = ${run.id}
        AND ((doc.type = 'invoice' AND doc.id = charged.id) OR (doc.type = 'credit_note' AND doc.corrects_invoice_id = charged.id))
      RETURNING r.id, r.invoice_id, r.amount, p.id AS purchase_id, p.publisher_id, p.subscription_id, p.description, p.vat_rate
    )
    INSERT INTO invoice_lines (invoice_id, publisher_id, purchase_id, refund_id, description, amount, vat_rate, vat_amount)
    SELECT c.invoice_id, c.publisher_id, c.purchase_id, c.id, 'Refund: ' || c.description, -c.amount, ${purchaseVatRate},
           ${vatIncludedSql(Prisma.sql`(-c.amount)`, purchaseVatRate)}
    FROM claimed c JOIN publishers pub ON pub.id = c.publisher_id LEFT JOIN subscriptions sub ON sub.id = c.subscription_id`;
}

/**
 * A refund credited takes back the commission on what it gave back, per
 * purchase: commission = rate × what is still billed, half-even, and the
 * difference is recorded per credit note and publisher for its journal entry.
 */
async function takeBackCommissions(tx: Tx, run: BillingRun): Promise<void> {
  await tx.$executeRaw`CREATE TEMP TABLE run_takeback (doc_id text, publisher_id text, takeback numeric(14, 2)) ON COMMIT DROP`;
  const remaining = Prisma.sql`(COALESCE(x.billed_remaining, x.amount) - x.refunded)`;
  await tx.$executeRaw`
    WITH credited AS (
      SELECT l.purchase_id, l.invoice_id AS doc_id, -sum(l.amount) AS refunded
      FROM invoice_lines l JOIN invoices d ON d.id = l.invoice_id
      WHERE d.billing_run_id = ${run.id} AND l.refund_id IS NOT NULL
      GROUP BY l.purchase_id, l.invoice_id
    ), changed AS (
      UPDATE purchases p
      SET billed_remaining = ${remaining},
          commission_amount = ${roundHalfEvenCentsSql(Prisma.sql`(COALESCE(x.commission_rate, 0) * ${remaining})`)}
      FROM (
        SELECT q.id, q.amount, q.billed_remaining, q.commission_rate, q.commission_amount AS before, c.doc_id, c.refunded
        FROM purchases q JOIN credited c ON c.purchase_id = q.id
      ) x
      WHERE p.id = x.id
      RETURNING x.doc_id, p.publisher_id, x.before - p.commission_amount AS takeback
    )
    INSERT INTO run_takeback SELECT doc_id, publisher_id, sum(takeback) FROM changed GROUP BY doc_id, publisher_id`;
}

/** Totals are sums of lines; documents another run emptied under us are dropped. */
async function totalDocuments(tx: Tx, run: BillingRun): Promise<void> {
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
}

/**
 * One journal entry per invoice and per credit note, all in one statement: the
 * receivable against each publisher's unsettled sales and refunds, and the
 * commission Kiosque earns (or gives back) on them.
 */
async function postDocuments(tx: Tx, run: BillingRun, now: Date): Promise<void> {
  const op = run.operatorId;
  const unsettled = (kind: string) =>
    Prisma.sql`'unsettled:' || ${op}::text || ':' || publisher_id || ':' || ${kind}::text`;
  await tx.$executeRaw`
    WITH docs AS (
      SELECT id, type, total FROM invoices WHERE billing_run_id = ${run.id}
    ), e AS (
      INSERT INTO ledger_entries (key, kind, operator_id, billing_run_id, invoice_id, created_at)
      SELECT type || ':' || id, type, ${op}::text, ${run.id}::text, id, ${now} FROM docs
      RETURNING id, invoice_id
    ), lines AS (
      -- One pass over the run's lines; the commission of an invoice is what its purchases keep after this run's refunds.
      SELECT l.invoice_id, l.publisher_id,
             COALESCE(sum(l.amount) FILTER (WHERE l.refund_id IS NULL), 0) AS sales,
             COALESCE(-sum(l.amount) FILTER (WHERE l.refund_id IS NOT NULL), 0) AS refunds,
             COALESCE(sum(p.commission_amount), 0) AS commission
      FROM invoice_lines l
      JOIN docs d ON d.id = l.invoice_id
      LEFT JOIN purchases p ON p.id = l.purchase_id AND l.refund_id IS NULL AND d.type = 'invoice'
      GROUP BY l.invoice_id, l.publisher_id
    ), commission AS (
      SELECT invoice_id, publisher_id, commission AS amount FROM lines
      UNION ALL
      SELECT t.doc_id, t.publisher_id, -t.takeback FROM run_takeback t JOIN docs d ON d.id = t.doc_id AND d.type = 'credit_note'
    ), postings (invoice_id, account, amount) AS (
      SELECT id, ${accounts.receivable(op)}::text, total FROM docs
      UNION ALL SELECT invoice_id, ${unsettled('sales')}, -sales FROM lines
      UNION ALL SELECT invoice_id, ${unsettled('refunds')}, refunds FROM lines
      UNION ALL SELECT invoice_id, ${unsettled('commission')}, amount FROM commission
      UNION ALL SELECT invoice_id, ${accounts.commission}::text, -amount FROM commission
    )
    INSERT INTO ledger_postings (entry_id, account, unit, amount)
    SELECT e.id, p.account, ${EUR}::text, sum(p.amount)
    FROM postings p JOIN e ON e.invoice_id = p.invoice_id
    GROUP BY e.id, p.account
    HAVING sum(p.amount) <> 0`;
}

/**
 * Freezes the run's settlement: for each publisher, what its unsettled
 * accounts with this operator hold now (this run's documents, and every
 * refund, chargeback or lost dispute posted since the operator's last run)
 * becomes a settlement row, and one entry per publisher closes those accounts
 * into what Kiosque owes it. The figures are the journal's, so they add up.
 */
async function settleRun(tx: Tx, run: BillingRun, now: Date): Promise<void> {
  const { from, to } = unsettledRange(run.operatorId);
  await tx.$executeRaw`
    CREATE TEMP TABLE run_settlement (publisher_id text, gross numeric(14, 2), commission numeric(14, 2),
      refunds numeric(14, 2), chargebacks numeric(14, 2), ${pointsSettlementColumnTypes}) ON COMMIT DROP`;
  await tx.$executeRaw`
    INSERT INTO run_settlement
    SELECT split_part(account, ':', 3) AS publisher_id,
           COALESCE(-sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'sales'), 0)::numeric(14, 2) AS gross,
           COALESCE(sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'commission'), 0)::numeric(14, 2) AS commission,
           COALESCE(sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'refunds'), 0)::numeric(14, 2) AS refunds,
           COALESCE(sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'chargebacks'), 0)::numeric(14, 2) AS chargebacks,
           ${pointsSettlementColumns}
    FROM ledger_postings
    WHERE account >= ${from} AND account < ${to} AND unit = ${EUR}
    GROUP BY 1`;
  // Payouts hold the publisher's row lock while they read its balance; a settlement (whose net may be negative) waits for them.
  await tx.$queryRaw`SELECT 1 FROM publishers WHERE id IN (SELECT publisher_id FROM run_settlement) ORDER BY id FOR UPDATE`;
  await tx.$executeRaw`
    INSERT INTO settlements (billing_run_id, publisher_id, operator_id, through, gross, commission, refunds, chargebacks,
                             points_issued_value, points_redeemed_value, net, created_at)
    SELECT ${run.id}, publisher_id, ${run.operatorId}, ${run.through}, gross, commission, refunds, chargebacks,
           points_issued, points_redeemed, gross - commission - refunds - chargebacks + ${pointsNetSql}, ${now}
    FROM run_settlement
    WHERE gross <> 0 OR commission <> 0 OR refunds <> 0 OR chargebacks <> 0 OR ${pointsNonZeroSql}`;
  const unsettled = (kind: string) =>
    Prisma.sql`'unsettled:' || ${run.operatorId}::text || ':' || s.publisher_id || ':' || ${kind}::text`;
  const operator = await tx.operator.findUniqueOrThrow({ where: { id: run.operatorId }, select: { sandbox: true } });
  // Sandbox runs settle into an account of their own (accounts.sandboxPayable), which no payout or balance reads.
  const payableKind = operator.sandbox ? 'sandbox_payable' : 'payable';
  await tx.$executeRaw`
    WITH e AS (
      INSERT INTO ledger_entries (key, kind, operator_id, publisher_id, billing_run_id, created_at)
      SELECT 'settlement:' || ${run.id}::text || ':' || publisher_id, 'settlement', ${run.operatorId}::text, publisher_id, ${run.id}::text, ${now}
      FROM settlements WHERE billing_run_id = ${run.id}
      RETURNING id, publisher_id
    ), postings (publisher_id, account, amount) AS (
      SELECT s.publisher_id, ${unsettled('sales')}, s.gross FROM settlements s WHERE s.billing_run_id = ${run.id}
      UNION ALL SELECT s.publisher_id, ${unsettled('commission')}, -s.commission FROM settlements s WHERE s.billing_run_id = ${run.id}
      UNION ALL SELECT s.publisher_id, ${unsettled('refunds')}, -s.refunds FROM settlements s WHERE s.billing_run_id = ${run.id}
      UNION ALL SELECT s.publisher_id, ${unsettled('chargebacks')}, -s.chargebacks FROM settlements s WHERE s.billing_run_id = ${run.id}
      UNION ALL SELECT s.publisher_id, 'publisher:' || s.publisher_id || ':' || ${payableKind}::text, -s.net FROM settlements s WHERE s.billing_run_id = ${run.id}
      UNION ALL ${pointsClosingPostings(run.operatorId, run.id)}
    )
    INSERT INTO ledger_postings (entry_id, account, unit, amount)
    SELECT e.id, p.account, ${EUR}::text, p.amount FROM postings p JOIN e ON e.publisher_id = p.publisher_id WHERE p.amount <> 0`;
}

/** The run records its result: every document it issued, and their sum (credit notes count negative). */
async function closeRun(tx: Tx, run: BillingRun, now: Date): Promise<{ invoiceCount: number; total: string }> {
  const [summary] = await tx.$queryRaw<{ invoice_count: number; total: string }[]>`
    UPDATE billing_runs b SET status = 'done', finished_at = ${now}, error = NULL,
      invoice_count = s.invoice_count, total = s.total
    FROM (SELECT count(*)::int AS invoice_count, COALESCE(sum(total), 0) AS total FROM invoices WHERE billing_run_id = ${run.id}) s
    WHERE b.id = ${run.id}
    RETURNING b.invoice_count, b.total::text AS total`;
  if (!summary) throw new Error(`billing run ${run.id} vanished while it ran`);
  return { invoiceCount: summary.invoice_count, total: formatAmount(summary.total) };
}

/** Runs of one operator take turns with each other (exclusive) and with its outcomes (shared): see recordInvoiceOutcome. */
export function operatorBillingLockSql(operatorId: string, mode: 'exclusive' | 'shared'): Prisma.Sql {
  return mode === 'exclusive'
    ? Prisma.sql`SELECT pg_advisory_xact_lock(hashtext('kiosque.billing'), hashtext(${operatorId}))`
    : Prisma.sql`SELECT pg_advisory_xact_lock_shared(hashtext('kiosque.billing'), hashtext(${operatorId}))`;
}

/**
 * Performs a billing run, all of it in one transaction: it commits whole or
 * not at all, so a worker killed half-way leaves nothing behind and the retry
 * starts clean. Running it again once done changes nothing. The documents, their
 * journal entries and the frozen settlement commit together.
 */
export async function runBilling(
  db: Db,
  billingRunId: string,
  options: RunBillingOptions = {},
): Promise<BillingOutcome> {
  const now = options.now ?? new Date();
  // Committed on its own so that readers see the run as running while the long transaction works.
  await db.billingRun.updateMany({
    where: { id: billingRunId, status: { in: ['queued', 'running', 'failed'] } },
    data: { status: 'running', startedAt: now },
  });
  return db.$transaction(async (tx) => {
    // A run is set-based statements over every unbilled purchase of the operator: longer than a request's
    // deadline at scale, so it gets bounds of its own; another run of the operator may hold the lock a while.
    await tx.$executeRawUnsafe(`SET LOCAL statement_timeout = ${BILLING_STATEMENT_TIMEOUT_MS}`);
    await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = ${BILLING_LOCK_TIMEOUT_MS}`);
    await tx.$queryRaw`SELECT 1 FROM billing_runs WHERE id = ${billingRunId} FOR UPDATE`;
    const run = await tx.billingRun.findUnique({ where: { id: billingRunId } });
    if (!run) throw notFound('Billing run');
    if (run.status === 'done') {
      return {
        billingRunId,
        status: 'done',
        invoiceCount: run.invoiceCount,
        total: formatAmount(run.total.toString()),
        performed: false,
      };
    }
    // Runs of one operator would otherwise claim the same rows in different orders and deadlock.
    await tx.$executeRaw(operatorBillingLockSql(run.operatorId, 'exclusive'));
    await insertInvoices(tx, run, now);
    await claimPurchases(tx, run);
    await insertCreditNotes(tx, run, now);
    await claimRefunds(tx, run);
    await takeBackCommissions(tx, run);
    await totalDocuments(tx, run);
    await postDocuments(tx, run, now);
    await settleRun(tx, run, now);
    const summary = await closeRun(tx, run, new Date());
    if (options.pauseBeforeCommitMs) {
      options.onPause?.();
      await sleep(options.pauseBeforeCommitMs);
    }
    return { billingRunId, status: 'done', ...summary, performed: true };
  }, BILLING_TRANSACTION_OPTIONS);
}

/** Only for a run whose last attempt failed: a run still being retried stays running. */
export async function markBillingRunFailed(
  db: Db,
  billingRunId: string,
  message: string,
  now = new Date(),
): Promise<void> {
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
