import { settleRun } from './billing-settlement.js';
import {
  BILLABLE_STATUSES_SQL,
  billingTransaction,
  operatorBillingLockText,
  type BillingDatabase,
  type BillingLimits,
  type RunHead,
  type StoredRunStatus,
} from './billing-session.js';
import { settleAvailability } from './availability.js';

/**
 * A billing run from start to end (docs/money.md, "Billing runs"): prepared
 * once into chunks of payers, its chunks billed (billing-chunks.ts), then
 * settled and closed in one last transaction.
 */

type PrepareOutcome =
  { state: 'running' } | { state: 'blocked' } | { state: 'finished'; status: 'done' | 'failed' } | { state: 'missing' };

/**
 * Prepares a run once: marks it running and cuts its payers into chunks of at
 * most `chunkPayers`, from the unbilled purchases and uncredited refunds it
 * will bill. Preparing again changes nothing. Another running run of the
 * operator blocks it (unique index billing_runs_one_running_per_operator).
 */
export async function prepareRun(
  db: BillingDatabase,
  billingRunId: string,
  chunkPayers: number,
  limits: BillingLimits,
  now: Date,
): Promise<PrepareOutcome> {
  try {
    return await billingTransaction(db, limits, limits.prepareStatementMs, async (client) => {
      // FOR NO KEY UPDATE, never FOR UPDATE: every chunk in flight holds the run's row FOR KEY SHARE (its
      // invoices' foreign key), and neither preparing nor closing may queue behind chunks.
      const { rows: heads } = await client.query<{
        id: string;
        operator_id: string;
        through: Date;
        status: StoredRunStatus;
      }>('SELECT id, operator_id, through, status FROM billing_runs WHERE id = $1::text FOR NO KEY UPDATE', [
        billingRunId,
      ]);
      const head = heads[0];
      if (!head) return { state: 'missing' } as const;
      if (head.status === 'done' || head.status === 'failed')
        return { state: 'finished', status: head.status } as const;
      if (head.status === 'running') {
        const { rows: chunk } = await client.query(
          'SELECT 1 FROM billing_run_chunks WHERE billing_run_id = $1::text LIMIT 1',
          [billingRunId],
        );
        if (chunk.length) return { state: 'running' } as const;
      }
      await client.query(
        `UPDATE billing_runs SET status = 'running', started_at = $2::timestamptz, error = NULL WHERE id = $1::text`,
        [billingRunId, now],
      );
      const { rows: bounds } = await client.query<{ payer: string }>(
        `
          WITH payers AS (
            SELECT COALESCE(s.holder_id, s.id) AS payer
            FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
            WHERE s.operator_id = $1::text AND p.invoice_id IS NULL
              AND p.status IN ${BILLABLE_STATUSES_SQL} AND p.confirmed_at <= $2::timestamptz
            UNION
            SELECT charged.subscriber_id
            FROM refunds r JOIN purchases p ON p.id = r.purchase_id JOIN invoices charged ON charged.id = p.invoice_id
            WHERE r.invoice_id IS NULL AND r.created_at <= $2::timestamptz AND charged.operator_id = $1::text
          ), numbered AS (
            SELECT payer, row_number() OVER (ORDER BY payer) - 1 AS n FROM payers
          )
          SELECT payer FROM numbered WHERE n > 0 AND n % $3::int = 0 ORDER BY payer`,
        [head.operator_id, head.through, chunkPayers],
      );
      // Chunk i covers [bound i-1, bound i): the first is open below, the last open above.
      const edges = bounds.map((b) => b.payer);
      await client.query(
        `INSERT INTO billing_run_chunks (billing_run_id, chunk_no, payer_from, payer_to)
         SELECT $1::text, n - 1, f, t FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS x(f, t, n)`,
        [billingRunId, [null, ...edges], [...edges, null]],
      );
      return { state: 'running' } as const;
    });
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return { state: 'blocked' };
    throw error;
  }
}

/**
 * The run's last step, once every chunk is done: settlement and close, in one
 * transaction. True when this call finished the run; false when it was not
 * ready (a chunk pending or leased), already finished, or being finished by
 * another worker right now.
 */
export async function finalizeRun(db: BillingDatabase, billingRunId: string, limits: BillingLimits): Promise<boolean> {
  return billingTransaction(db, limits, limits.statementMs, async (client) => {
    const { rows: heads } = await client.query<{ id: string; operator_id: string; through: Date }>(
      `SELECT r.id, r.operator_id, r.through FROM billing_runs r
       WHERE r.id = $1::text AND r.status = 'running'
         AND NOT EXISTS (SELECT 1 FROM billing_run_chunks c WHERE c.billing_run_id = r.id AND c.status = 'pending')
         AND EXISTS (SELECT 1 FROM billing_run_chunks c WHERE c.billing_run_id = r.id)
       FOR NO KEY UPDATE OF r SKIP LOCKED`,
      [billingRunId],
    );
    const head = heads[0];
    if (!head) return false;
    const run: RunHead = { id: head.id, operatorId: head.operator_id, through: head.through };
    // An outcome (which takes this lock shared) is then wholly in this settlement or wholly in the next.
    await client.query(`SELECT ${operatorBillingLockText('exclusive', '$1::text')}`, [run.operatorId]);
    const now = new Date();
    await settleRun(client, run, now);
    await settleAvailability(client, run, now);
    await client.query(
      `UPDATE billing_runs b SET status = 'done', finished_at = $2::timestamptz, error = NULL,
         invoice_count = s.invoice_count, total = s.total
       FROM (SELECT COALESCE(sum(invoice_count), 0)::int AS invoice_count, COALESCE(sum(total), 0) AS total
             FROM billing_run_chunks WHERE billing_run_id = $1::text) s
       WHERE b.id = $1::text`,
      [run.id, now],
    );
    return true;
  });
}

interface StoredRunSummary {
  status: StoredRunStatus;
  invoiceCount: number;
  total: string;
  error: string | null;
}

export async function runSummary(db: BillingDatabase, billingRunId: string): Promise<StoredRunSummary | null> {
  const { rows: found } = await db.pool.query<{
    status: StoredRunStatus;
    invoice_count: number;
    total: string;
    error: string | null;
  }>('SELECT status, invoice_count, total::text AS total, error FROM billing_runs WHERE id = $1', [billingRunId]);
  const row = found[0];
  return row ? { status: row.status, invoiceCount: row.invoice_count, total: row.total, error: row.error } : null;
}

/** Running runs (of the operators in scope, when given): each may have a free chunk or its last step to do. */
export async function runningRunIds(db: BillingDatabase, operatorIds?: readonly string[]): Promise<string[]> {
  const { rows: found } = await db.pool.query<{ id: string }>(
    `SELECT id FROM billing_runs WHERE status = 'running' AND ($1::text[] IS NULL OR operator_id = ANY($1::text[]))
     ORDER BY id`,
    [operatorIds ? [...operatorIds] : null],
  );
  return found.map((r) => r.id);
}
