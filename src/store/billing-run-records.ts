import type Decimal from 'decimal.js';
import { money } from './records.js';
import type { StoredRunStatus } from './billing-session.js';
import type { Sql, Statement } from './sql.js';

/** A billing run as the API shows it; its chunks and documents are read elsewhere. */
export interface BillingRunRecord {
  id: string;
  operatorId: string;
  through: Date;
  status: StoredRunStatus;
  invoiceCount: number;
  total: Decimal;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

interface RunRow {
  id: string;
  operator_id: string;
  through: Date;
  status: StoredRunStatus;
  invoice_count: number;
  total: string;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const RUN_COLUMNS = `id, operator_id, through, status, invoice_count, total::text AS total, error, created_at,
  started_at, finished_at`;

function toRun(row: RunRow): BillingRunRecord {
  return {
    id: row.id,
    operatorId: row.operator_id,
    through: row.through,
    status: row.status,
    invoiceCount: row.invoice_count,
    total: money(row.total),
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

const INSERT_RUN: Statement = {
  name: 'billing_run_insert',
  text: `INSERT INTO billing_runs (id, operator_id, through, status, created_at)
    VALUES ($1::text, $2::text, $3::timestamptz, 'queued', $4::timestamptz) RETURNING ${RUN_COLUMNS}`,
};

export async function insertBillingRun(
  runner: Sql,
  run: { id: string; operatorId: string; through: Date; createdAt: Date },
): Promise<BillingRunRecord> {
  const [row] = await runner.rows<RunRow>(INSERT_RUN, [run.id, run.operatorId, run.through, run.createdAt]);
  if (!row) throw new Error(`billing run ${run.id} was not inserted`);
  return toRun(row);
}

const RUN_BY_ID: Statement = {
  name: 'billing_run_by_id',
  text: `SELECT ${RUN_COLUMNS} FROM billing_runs WHERE id = $1::text`,
};

export async function billingRunById(runner: Sql, id: string): Promise<BillingRunRecord | null> {
  const [row] = await runner.rows<RunRow>(RUN_BY_ID, [id]);
  return row ? toRun(row) : null;
}

const FAIL_UNFINISHED: Statement = {
  name: 'billing_run_fail_unfinished',
  text: `UPDATE billing_runs SET status = 'failed', error = $2::text, finished_at = $3::timestamptz
    WHERE id = $1::text AND status IN ('queued', 'running') RETURNING id`,
};

/** A run that cannot finish ends failed with the reason; a finished run stays as it is. */
export async function failUnfinishedRun(runner: Sql, id: string, message: string, now: Date): Promise<void> {
  await runner.rows(FAIL_UNFINISHED, [id, message.slice(0, 1000), now]);
}

const UNFINISHED_IDS: Statement = {
  name: 'billing_run_unfinished_ids',
  text: `SELECT id FROM billing_runs
    WHERE status IN ('queued', 'running') AND ($1::text[] IS NULL OR operator_id = ANY($1::text[]))
    ORDER BY id`,
};

/** Queued and running runs, of the operators given when there is a list. */
export async function unfinishedRunIds(runner: Sql, operatorIds?: readonly string[]): Promise<string[]> {
  const rows = await runner.rows<{ id: string }>(UNFINISHED_IDS, [operatorIds ? [...operatorIds] : null]);
  return rows.map((r) => r.id);
}
