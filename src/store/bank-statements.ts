import type Decimal from 'decimal.js';
import { accounts, EUR } from '../shared/accounts.js';
import { money } from './records.js';
import type { Sql, Statement } from './sql.js';

export interface StatementSummary {
  id: string;
  entries: number;
  matched: number;
  unmatched: {
    entryReference: string | null;
    amount: string;
    creditDebit: 'CRDT' | 'DBIT';
    reference: string | null;
  }[];
}

const LOCK_REF: Statement = {
  name: 'bank_statement_lock_ref',
  text: `SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtext('bank_statement:' || $1::text))) l`,
};

const FIND_BY_REF: Statement = {
  name: 'bank_statement_find_by_ref',
  text: `SELECT summary FROM bank_statements WHERE statement_ref = $1::text`,
};

/**
 * The summary of the statement already imported under this Stmt/Id, or null.
 * It first waits for any import of the same Stmt/Id under way, so two imports
 * of one statement book it once, whichever commits first.
 */
export async function importedStatement(sql: Sql, statementRef: string): Promise<StatementSummary | null> {
  await sql.rows(LOCK_REF, [statementRef]);
  const [row] = await sql.rows<{ summary: StatementSummary }>(FIND_BY_REF, [statementRef]);
  return row?.summary ?? null;
}

const INSERT: Statement = {
  name: 'bank_statement_insert',
  text: `INSERT INTO bank_statements (id, statement_ref, summary, created_at)
    VALUES ($1::text, $2::text, $3::jsonb, $4::timestamptz)`,
};

export async function insertStatement(
  sql: Sql,
  statement: { ref: string; summary: StatementSummary; createdAt: Date },
): Promise<void> {
  await sql.rows(INSERT, [statement.summary.id, statement.ref, JSON.stringify(statement.summary), statement.createdAt]);
}

const FIND: Statement = {
  name: 'bank_statement_find',
  text: `SELECT summary FROM bank_statements WHERE id = $1::text`,
};

export async function findStatement(sql: Sql, id: string): Promise<StatementSummary | null> {
  const [row] = await sql.rows<{ summary: StatementSummary }>(FIND, [id]);
  return row?.summary ?? null;
}

const RUNS: Statement = {
  name: 'bank_statement_runs',
  text: `SELECT r.id, r.operator_id AS "operatorId" FROM billing_runs r JOIN operators o ON o.id = r.operator_id
    WHERE r.id = ANY($1::text[]) AND NOT o.sandbox`,
};

/** The live operators' billing runs among `ids`: a sandbox operator's run is test money, remitted by nobody. */
export async function liveBillingRuns(sql: Sql, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await sql.rows<{ id: string; operatorId: string }>(RUNS, [[...ids]]);
  return new Map(rows.map((r) => [r.id, r.operatorId]));
}

const REMITTED: Statement = {
  name: 'bank_statement_remitted',
  text: `SELECT COALESCE(sum(p.amount), 0)::text AS remitted
    FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
    WHERE e.billing_run_id = $1::text AND e.kind = 'remittance' AND p.account = $2::text AND p.unit = $3::text`,
};

/** What the bank's statements show the run's operator remitted for it: the journal's remittances into the bank. */
export async function remittedForRun(sql: Sql, billingRunId: string): Promise<Decimal> {
  const [row] = await sql.rows<{ remitted: string }>(REMITTED, [billingRunId, accounts.bank, EUR]);
  return money(row?.remitted ?? '0');
}
