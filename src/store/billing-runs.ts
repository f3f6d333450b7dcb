import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';
import { accounts, EUR, unsettledRange } from '../domain/ledger.js';
import { newId } from '../ids.js';
import { roundHalfEvenCentsSql, vatIncludedSql } from './billing-sql.js';
import {
  pointsClosingPostings,
  pointsNetSql,
  pointsNonZeroSql,
  pointsSettlementColumns,
  pointsSettlementColumnTypes,
} from './points-settlement.js';
import { settleAvailability } from './availability.js';
import { inClientTransaction, type PgPool } from './sql.js';

/**
 * The SQL of a billing run worked as chunks (docs/money.md, "Billing runs"):
 * preparation, one chunk, the final settlement. Each is one transaction on a
 * node-postgres connection, bounded by the limits below.
 */

export type StoredRunStatus = 'queued' | 'running' | 'done' | 'failed';

export interface BillingLimits {
  /** One statement of a chunk or of the final step; a chunk is bounded, so this is generous. */
  statementMs: number;
  /** Preparation reads every unbilled purchase of the operator once. */
  prepareStatementMs: number;
  /** Waiting for a row lock held by a confirmation, a refund or an outcome. */
  lockMs: number;
  /**
   * How often PostgreSQL checks, while a statement runs, that the client is
   * still there: a killed worker's backend stops within this instead of
   * finishing its statement (and holding its locks) for nobody.
   */
  clientCheckMs: number;
}

export const DEFAULT_BILLING_LIMITS: BillingLimits = {
  statementMs: 30_000,
  prepareStatementMs: 120_000,
  lockMs: 10_000,
  clientCheckMs: 1_000,
};

/** Purchase statuses that were confirmed once and so are owed, whatever happened since. */
const BILLABLE_STATUSES = Prisma.sql`('confirmed', 'refunded', 'disputed')`;

interface RunHead {
  id: string;
  operatorId: string;
  through: Date;
}

export interface ChunkLease {
  billingRunId: string;
  chunkNo: number;
  payerFrom: string | null;
  payerTo: string | null;
}

export interface ChunkResult extends ChunkLease {
  invoiceCount: number;
  total: string;
}

/** A chunk's transaction failed: the chunk is named so that its attempt can be counted. */
export class ChunkFailed extends Error {
  constructor(
    readonly lease: ChunkLease,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'ChunkFailed';
  }
}

type Client = pg.PoolClient;

async function exec(client: Client, sql: Prisma.Sql): Promise<pg.QueryResult> {
  return client.query(sql.text, sql.values);
}

async function rows<T>(client: Client, sql: Prisma.Sql): Promise<T[]> {
  return (await exec(client, sql)).rows as T[];
}

/** A checked-out connection closed by the server fails its query; unlistened, it would also crash the process. */
/**
 * BEGIN, the billing session's bounds, `work`, COMMIT. The bounds are SET
 * LOCAL, so they hold on any pool's connection and leave it as it was.
 */
function billingTransaction<T>(
  pool: PgPool,
  limits: BillingLimits,
  statementMs: number,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  return inClientTransaction(pool, async (client) => {
    // random_page_cost 1.1 (the usual figure for data in memory or on SSD): at the default 4, the planner
    // reads every unbilled purchase by sequential scan for each chunk instead of its payers' few by index
    // (measured: 227 ms against 5 ms for the purchases of 335 payers out of 20,000).
    await client.query(
      `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true),
              set_config('client_connection_check_interval', $3, true), set_config('random_page_cost', '1.1', true)`,
      [String(statementMs), String(limits.lockMs), String(limits.clientCheckMs)],
    );
    return work(client);
  });
}

/** Runs of one operator take turns with its outcomes (see recordInvoiceOutcome): the final step exclusive, outcomes shared. */
export function operatorBillingLockText(mode: 'exclusive' | 'shared', operatorId: string): string {
  const take = mode === 'exclusive' ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
  return `${take}(hashtext('kiosque.billing'), hashtext(${operatorId}))`;
}

/** Invoice ids keep newId's layout (prefix, time, 16 Crockford symbols); hex digits are Crockford symbols. */
function idStem(prefix: string, now: Date): string {
  return newId(prefix, now.getTime()).slice(0, prefix.length + 1 + 10);
}
const randomIdTail = Prisma.sql`upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 16))`;

/** The VAT rate of a purchase: its own, else its subscription's, else its publisher's (API.md, "VAT by product"). */
const purchaseVatRate = Prisma.sql`COALESCE(c.vat_rate, sub.vat_rate, pub.vat_rate)`;

/** `id` lies in the chunk's range of payer ids; a NULL bound is open. */
function inRange(id: Prisma.Sql, chunk: ChunkLease): Prisma.Sql {
  const bounds: Prisma.Sql[] = [];
  if (chunk.payerFrom !== null) bounds.push(Prisma.sql`${id} >= ${chunk.payerFrom}`);
  if (chunk.payerTo !== null) bounds.push(Prisma.sql`${id} < ${chunk.payerTo}`);
  return bounds.length ? Prisma.sql`(${Prisma.join(bounds, ' AND ')})` : Prisma.sql`TRUE`;
}

/**
 * A subscriber whose payer (its holder, else itself) is in the chunk's range,
 * written so that the primary key and the holder_id index can find them.
 */
function payerInRange(chunk: ChunkLease): Prisma.Sql {
  return Prisma.sql`((s.holder_id IS NULL AND ${inRange(Prisma.sql`s.id`, chunk)}) OR ${inRange(Prisma.sql`s.holder_id`, chunk)})`;
}

/** The chunk's documents: its payers' invoices and credit notes in this run (a credit note's payer is its invoice's). */
function chunkDocs(run: RunHead, chunk: ChunkLease, alias: string): Prisma.Sql {
  const a = Prisma.raw(alias);
  return Prisma.sql`${a}.billing_run_id = ${run.id} AND ${inRange(Prisma.sql`${a}.subscriber_id`, chunk)}`;
}

export type PrepareOutcome =
  { state: 'running' } | { state: 'blocked' } | { state: 'finished'; status: 'done' | 'failed' } | { state: 'missing' };

/**
 * Prepares a run once: marks it running and cuts its payers into chunks of at
 * most `chunkPayers`, from the unbilled purchases and uncredited refunds it
 * will bill. Preparing again changes nothing. Another running run of the
 * operator blocks it (unique index billing_runs_one_running_per_operator).
 */
export async function prepareRun(
  pool: PgPool,
  billingRunId: string,
  chunkPayers: number,
  limits: BillingLimits,
  now: Date,
): Promise<PrepareOutcome> {
  try {
    return await billingTransaction(pool, limits, limits.prepareStatementMs, async (client) => {
      // FOR NO KEY UPDATE, never FOR UPDATE: every chunk in flight holds the run's row FOR KEY SHARE (its
      // invoices' foreign key), and neither preparing nor closing may queue behind chunks.
      const [head] = await rows<{ id: string; operator_id: string; through: Date; status: StoredRunStatus }>(
        client,
        Prisma.sql`SELECT id, operator_id, through, status FROM billing_runs WHERE id = ${billingRunId} FOR NO KEY UPDATE`,
      );
      if (!head) return { state: 'missing' } as const;
      if (head.status === 'done' || head.status === 'failed')
        return { state: 'finished', status: head.status } as const;
      if (head.status === 'running') {
        const [chunk] = await rows(
          client,
          Prisma.sql`SELECT 1 FROM billing_run_chunks WHERE billing_run_id = ${billingRunId} LIMIT 1`,
        );
        if (chunk) return { state: 'running' } as const;
      }
      await exec(
        client,
        Prisma.sql`UPDATE billing_runs SET status = 'running', started_at = ${now}, error = NULL WHERE id = ${billingRunId}`,
      );
      const bounds = await rows<{ payer: string }>(
        client,
        Prisma.sql`
          WITH payers AS (
            SELECT COALESCE(s.holder_id, s.id) AS payer
            FROM purchases p JOIN subscribers s ON s.id = p.subscriber_id
            WHERE s.operator_id = ${head.operator_id} AND p.invoice_id IS NULL
              AND p.status IN ${BILLABLE_STATUSES} AND p.confirmed_at <= ${head.through}
            UNION
            SELECT charged.subscriber_id
            FROM refunds r JOIN purchases p ON p.id = r.purchase_id JOIN invoices charged ON charged.id = p.invoice_id
            WHERE r.invoice_id IS NULL AND r.created_at <= ${head.through} AND charged.operator_id = ${head.operator_id}
          ), numbered AS (
            SELECT payer, row_number() OVER (ORDER BY payer) - 1 AS n FROM payers
          )
          SELECT payer FROM numbered WHERE n > 0 AND n % ${chunkPayers}::int = 0 ORDER BY payer`,
      );
      // Chunk i covers [bound i-1, bound i): the first is open below, the last open above.
      const edges = bounds.map((b) => b.payer);
      const from = [null, ...edges];
      const to = [...edges, null];
      await exec(
        client,
        Prisma.sql`
          INSERT INTO billing_run_chunks (billing_run_id, chunk_no, payer_from, payer_to)
          SELECT ${billingRunId}, n - 1, f, t FROM unnest(${from}::text[], ${to}::text[]) WITH ORDINALITY AS x(f, t, n)`,
      );
      return { state: 'running' } as const;
    });
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return { state: 'blocked' };
    throw error;
  }
}

/**
 * Takes the first pending chunk nobody holds and bills it, in one transaction:
 * the row lock taken by FOR UPDATE SKIP LOCKED is the lease, and it ends with
 * the transaction, or with the connection of a worker that died. Null when no
 * chunk is free.
 */
export async function billNextChunk(
  pool: PgPool,
  billingRunId: string,
  limits: BillingLimits,
  now: Date,
): Promise<ChunkResult | null> {
  let lease: ChunkLease | undefined;
  try {
    return await billingTransaction(pool, limits, limits.statementMs, async (client) => {
      const [row] = await rows<{
        chunk_no: number;
        payer_from: string | null;
        payer_to: string | null;
        operator_id: string;
        through: Date;
      }>(
        client,
        Prisma.sql`
          SELECT c.chunk_no, c.payer_from, c.payer_to, r.operator_id, r.through
          FROM billing_run_chunks c JOIN billing_runs r ON r.id = c.billing_run_id
          WHERE c.billing_run_id = ${billingRunId} AND c.status = 'pending' AND r.status = 'running'
          ORDER BY c.chunk_no LIMIT 1
          FOR UPDATE OF c SKIP LOCKED`,
      );
      if (!row) return null;
      lease = { billingRunId, chunkNo: row.chunk_no, payerFrom: row.payer_from, payerTo: row.payer_to };
      const head: RunHead = { id: billingRunId, operatorId: row.operator_id, through: row.through };
      return { ...lease, ...(await billChunk(client, head, lease, now)) };
    });
  } catch (error) {
    if (lease) throw new ChunkFailed(lease, error);
    throw error;
  }
}

async function billChunk(
  client: Client,
  run: RunHead,
  chunk: ChunkLease,
  now: Date,
): Promise<{ invoiceCount: number; total: string }> {
  await createChunkTables(client);
  await claimPurchases(client, run, chunk, now);
  await lockCorrectedInvoices(client, run, chunk);
  await insertCreditNotes(client, run, chunk, now);
  await claimRefunds(client, run, chunk);
  await takeBackCommissions(client);
  await totalDocuments(client, run, chunk);
  await postDocuments(client, run, chunk, now);
  const [summary] = await rows<{ invoice_count: number; total: string }>(
    client,
    Prisma.sql`
      UPDATE billing_run_chunks c SET status = 'done', finished_at = ${now}, error = NULL,
        invoice_count = s.invoice_count, total = s.total
      FROM (SELECT count(*)::int AS invoice_count, COALESCE(sum(total), 0) AS total FROM invoices i WHERE ${chunkDocs(run, chunk, 'i')}) s
      WHERE c.billing_run_id = ${run.id} AND c.chunk_no = ${chunk.chunkNo}
      RETURNING c.invoice_count, c.total::text AS total`,
  );
  if (!summary) throw new Error(`chunk ${chunk.chunkNo} of billing run ${run.id} vanished while it was billed`);
  return { invoiceCount: summary.invoice_count, total: summary.total };
}

/**
 * What the chunk's claims wrote, summed as they write it: per document and
 * publisher, the sales, refunds, VAT and commission of its new lines (in
 * chunk_sums), and per refunded purchase what each document credited (in
 * chunk_credits). Totals, commission taken back and journal entries read these
 * few rows instead of reading every line back and joining it to its purchase.
 * A chunk's documents get all their lines from the chunk's own transaction
 * (a document's payer is in one chunk's range, and a chunk commits once), so
 * these sums are their lines' sums.
 */
async function createChunkTables(client: Client): Promise<void> {
  await client.query(`
    CREATE TEMP TABLE chunk_sums (doc_id text, publisher_id text, sales numeric(14, 2), refunds numeric(14, 2),
      vat numeric(14, 2), commission numeric(14, 2)) ON COMMIT DROP;
    CREATE TEMP TABLE chunk_credits (doc_id text, purchase_id text, refunded numeric(14, 2)) ON COMMIT DROP`);
}

/**
 * Claims each purchase by setting its invoice_id where it is still NULL: a
 * concurrent claimer waits on the row lock and then re-checks, so a purchase
 * lands on one invoice only (and a trigger keeps it there). One statement
 * writes what the claim implies: one invoice per payer with its totals, its
 * charge lines (one per publisher and VAT rate, naming their purchases), and
 * the start of the journal's view of each purchase (billed in full, commission
 * on all of it). The invoice's id is its payer's, salted per chunk: every purchase of a
 * payer names the same invoice without a first pass to create it, and ids stay
 * unguessable. A payer is in one chunk's range and a chunk commits once, so
 * its invoice cannot exist already (its unique index would refuse it).
 */
async function claimPurchases(client: Client, run: RunHead, chunk: ChunkLease, now: Date): Promise<void> {
  const commission = roundHalfEvenCentsSql(Prisma.sql`(COALESCE(p.commission_rate, 0) * p.amount)`);
  const salt = randomUUID();
  const payerHash = Prisma.sql`upper(substr(md5(${salt} || COALESCE(s.holder_id, s.id)), 1, 16))`;
  const invoiceId = Prisma.sql`${idStem('inv', now)} || ${payerHash}`;
  await exec(
    client,
    Prisma.sql`
    WITH claimed AS (
      UPDATE purchases p SET invoice_id = ${invoiceId}, billed_remaining = p.amount, commission_amount = ${commission}
      FROM subscribers s
      WHERE s.id = p.subscriber_id AND s.operator_id = ${run.operatorId} AND ${payerInRange(chunk)}
        AND p.invoice_id IS NULL AND p.status IN ${BILLABLE_STATUSES} AND p.confirmed_at <= ${run.through}
      RETURNING p.id, p.invoice_id, COALESCE(s.holder_id, s.id) AS payer, p.publisher_id, p.subscription_id,
                p.amount, p.vat_rate, p.commission_amount
    ), rated AS (
      SELECT c.*, ${purchaseVatRate} AS rate FROM claimed c
      JOIN publishers pub ON pub.id = c.publisher_id LEFT JOIN subscriptions sub ON sub.id = c.subscription_id
    ), priced AS (
      SELECT r.*, ${vatIncludedSql(Prisma.sql`r.amount`, Prisma.sql`r.rate`)} AS vat FROM rated r
    ), invoiced AS (
      INSERT INTO invoices (id, billing_run_id, operator_id, subscriber_id, status, type, total, vat_amount, created_at)
      SELECT invoice_id, ${run.id}, ${run.operatorId}, payer, 'issued', 'invoice', sum(amount), sum(vat), ${now}
      FROM priced GROUP BY invoice_id, payer
    ), lines AS (
      INSERT INTO invoice_lines (invoice_id, publisher_id, kind, vat_rate, amount, vat_amount, purchase_ids, refund_ids)
      SELECT invoice_id, publisher_id, 'charge', rate, sum(amount), sum(vat), array_agg(id ORDER BY id), '{}'
      FROM priced GROUP BY invoice_id, publisher_id, rate
    )
    INSERT INTO chunk_sums (doc_id, publisher_id, sales, refunds, vat, commission)
    SELECT invoice_id, publisher_id, sum(amount), 0, sum(vat), sum(commission_amount)
    FROM priced
    GROUP BY invoice_id, publisher_id`,
  );
}

/** Refunds of the chunk's payers not yet credited, whose purchase is on an invoice the operator has not called unpaid. */
function uncreditedRefunds(run: RunHead, chunk: ChunkLease): Prisma.Sql {
  return Prisma.sql`
    r.invoice_id IS NULL AND r.created_at <= ${run.through}
    AND charged.operator_id = ${run.operatorId} AND charged.status <> 'unpaid'
    AND ${inRange(Prisma.sql`charged.subscriber_id`, chunk)}`;
}

/**
 * An unpaid outcome absorbs the refunds not yet credited on its invoice, so a
 * refund must not also reach a credit note: the chunk holds the invoices it is
 * about to correct (an outcome locks its invoice FOR UPDATE first), and the
 * statements after this one read their status once any outcome has committed.
 */
async function lockCorrectedInvoices(client: Client, run: RunHead, chunk: ChunkLease): Promise<void> {
  await exec(
    client,
    Prisma.sql`
    SELECT charged.id
    FROM refunds r JOIN purchases p ON p.id = r.purchase_id JOIN invoices charged ON charged.id = p.invoice_id
    WHERE ${uncreditedRefunds(run, chunk)}
    ORDER BY charged.id
    FOR SHARE OF charged`,
  );
}

/**
 * Refunds not yet credited whose purchase was billed by an earlier run are
 * credited on a credit note that names that invoice: one per corrected invoice
 * in this run. A charge the subscriber never paid was charged back for what was
 * not refunded, and the refunds known then were posted with it; crediting them
 * again would hand over money nobody collected.
 */
async function insertCreditNotes(client: Client, run: RunHead, chunk: ChunkLease, now: Date): Promise<void> {
  await exec(
    client,
    Prisma.sql`
    INSERT INTO invoices (id, billing_run_id, operator_id, subscriber_id, status, type, corrects_invoice_id, created_at)
    SELECT ${idStem('cn', now)} || ${randomIdTail}, ${run.id}, ${run.operatorId}, x.subscriber_id, 'issued', 'credit_note', x.id, ${now}
    FROM (
      SELECT DISTINCT charged.id, charged.subscriber_id
      FROM refunds r JOIN purchases p ON p.id = r.purchase_id JOIN invoices charged ON charged.id = p.invoice_id
      WHERE ${uncreditedRefunds(run, chunk)} AND charged.billing_run_id <> ${run.id}
    ) x`,
  );
}

/** Each refund lands on this run's invoice of its purchase (same run: a negative line) or on the credit note correcting it. */
async function claimRefunds(client: Client, run: RunHead, chunk: ChunkLease): Promise<void> {
  await exec(
    client,
    Prisma.sql`
    WITH claimed AS (
      UPDATE refunds r SET invoice_id = doc.id
      FROM purchases p, invoices charged, invoices doc
      WHERE p.id = r.purchase_id AND charged.id = p.invoice_id AND ${uncreditedRefunds(run, chunk)}
        AND doc.billing_run_id = ${run.id}
        AND ((doc.type = 'invoice' AND doc.id = charged.id) OR (doc.type = 'credit_note' AND doc.corrects_invoice_id = charged.id))
      RETURNING r.id, r.invoice_id, r.amount, p.id AS purchase_id, p.publisher_id, p.subscription_id, p.vat_rate
    ), priced AS (
      SELECT c.id, c.invoice_id, c.purchase_id, c.publisher_id, -c.amount AS amount, ${purchaseVatRate} AS rate,
             ${vatIncludedSql(Prisma.sql`(-c.amount)`, purchaseVatRate)} AS vat
      FROM claimed c
      JOIN publishers pub ON pub.id = c.publisher_id LEFT JOIN subscriptions sub ON sub.id = c.subscription_id
    ), lines AS (
      INSERT INTO invoice_lines (invoice_id, publisher_id, kind, vat_rate, amount, vat_amount, purchase_ids, refund_ids)
      SELECT invoice_id, publisher_id, 'refund', rate, sum(amount), sum(vat),
             array_agg(purchase_id ORDER BY id), array_agg(id ORDER BY id)
      FROM priced GROUP BY invoice_id, publisher_id, rate
    ), sums AS (
      INSERT INTO chunk_sums (doc_id, publisher_id, sales, refunds, vat, commission)
      SELECT invoice_id, publisher_id, 0, -sum(amount), sum(vat), 0 FROM priced GROUP BY invoice_id, publisher_id
    )
    INSERT INTO chunk_credits (doc_id, purchase_id, refunded)
    SELECT invoice_id, purchase_id, -sum(amount) FROM priced GROUP BY invoice_id, purchase_id`,
  );
}

/**
 * A refund credited takes back the commission on what it gave back, per
 * purchase: commission = rate × what is still billed, half-even, and the
 * difference is taken off the commission of the document that credits it.
 */
async function takeBackCommissions(client: Client): Promise<void> {
  const remaining = Prisma.sql`(COALESCE(x.billed_remaining, x.amount) - x.refunded)`;
  await exec(
    client,
    Prisma.sql`
    WITH changed AS (
      UPDATE purchases p
      SET billed_remaining = ${remaining},
          commission_amount = ${roundHalfEvenCentsSql(Prisma.sql`(COALESCE(x.commission_rate, 0) * ${remaining})`)}
      FROM (
        SELECT q.id, q.amount, q.billed_remaining, q.commission_rate, q.commission_amount AS before, c.doc_id, c.refunded
        FROM purchases q JOIN chunk_credits c ON c.purchase_id = q.id
      ) x
      WHERE p.id = x.id
      RETURNING x.doc_id, p.publisher_id, x.before - p.commission_amount AS takeback
    )
    INSERT INTO chunk_sums (doc_id, publisher_id, sales, refunds, vat, commission)
    SELECT doc_id, publisher_id, 0, 0, 0, -sum(takeback) FROM changed GROUP BY doc_id, publisher_id`,
  );
}

/**
 * Totals are sums of lines: an invoice got its charges' at its claim, so only
 * documents that credited refunds are summed again. Documents left without a
 * line (refunds claimed elsewhere) are dropped.
 */
async function totalDocuments(client: Client, run: RunHead, chunk: ChunkLease): Promise<void> {
  await exec(
    client,
    Prisma.sql`
    UPDATE invoices i SET total = t.total, vat_amount = t.vat
    FROM (
      SELECT doc_id, sum(sales) - sum(refunds) AS total, sum(vat) AS vat FROM chunk_sums
      GROUP BY doc_id HAVING bool_or(refunds <> 0)
    ) t
    WHERE i.id = t.doc_id`,
  );
  await exec(
    client,
    Prisma.sql`
    DELETE FROM invoices i
    WHERE ${chunkDocs(run, chunk, 'i')} AND NOT EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id)`,
  );
}

/**
 * One journal entry per invoice and per credit note of the chunk, all in one
 * statement: the receivable against each publisher's unsettled sales and
 * refunds, and the commission Kiosque earns (or gives back) on them.
 */
async function postDocuments(client: Client, run: RunHead, chunk: ChunkLease, now: Date): Promise<void> {
  const op = run.operatorId;
  const unsettled = (kind: string) =>
    Prisma.sql`'unsettled:' || ${op}::text || ':' || publisher_id || ':' || ${kind}::text`;
  await exec(
    client,
    Prisma.sql`
    WITH docs AS (
      SELECT id, type, total FROM invoices i WHERE ${chunkDocs(run, chunk, 'i')}
    ), e AS (
      INSERT INTO ledger_entries (key, kind, operator_id, billing_run_id, invoice_id, created_at)
      SELECT type || ':' || id, type, ${op}::text, ${run.id}::text, id, ${now} FROM docs
      RETURNING id, invoice_id
    ), lines AS (
      -- A document's commission: what its charged purchases earned at their claim, less what its refunds took back.
      SELECT doc_id AS invoice_id, publisher_id, sum(sales) AS sales, sum(refunds) AS refunds,
             sum(commission) AS commission
      FROM chunk_sums
      GROUP BY doc_id, publisher_id
    ), postings (invoice_id, account, amount) AS (
      SELECT id, ${accounts.receivable(op)}::text, total FROM docs
      UNION ALL SELECT invoice_id, ${unsettled('sales')}, -sales FROM lines
      UNION ALL SELECT invoice_id, ${unsettled('refunds')}, refunds FROM lines
      UNION ALL SELECT invoice_id, ${unsettled('commission')}, commission FROM lines
      UNION ALL SELECT invoice_id, ${accounts.commission}::text, -commission FROM lines
    )
    INSERT INTO ledger_postings (entry_id, account, unit, amount)
    SELECT e.id, p.account, ${EUR}::text, sum(p.amount)
    FROM postings p JOIN e ON e.invoice_id = p.invoice_id
    GROUP BY e.id, p.account
    HAVING sum(p.amount) <> 0`,
  );
}

/**
 * Freezes the run's settlement: for each publisher, what its unsettled
 * accounts with this operator hold now (this run's documents, and every
 * refund, chargeback or lost dispute posted since the operator's last run)
 * becomes a settlement row, and one entry per publisher closes those accounts
 * into what Kiosque owes it. The figures are the journal's, so they add up.
 */
async function settleRun(client: Client, run: RunHead, now: Date): Promise<void> {
  const { from, to } = unsettledRange(run.operatorId);
  await client.query(`
    CREATE TEMP TABLE run_settlement (publisher_id text, gross numeric(14, 2), commission numeric(14, 2),
      refunds numeric(14, 2), chargebacks numeric(14, 2), ${pointsSettlementColumnTypes}) ON COMMIT DROP`);
  await exec(
    client,
    Prisma.sql`
    INSERT INTO run_settlement
    SELECT split_part(account, ':', 3) AS publisher_id,
           COALESCE(-sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'sales'), 0)::numeric(14, 2) AS gross,
           COALESCE(sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'commission'), 0)::numeric(14, 2) AS commission,
           COALESCE(sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'refunds'), 0)::numeric(14, 2) AS refunds,
           COALESCE(sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'chargebacks'), 0)::numeric(14, 2) AS chargebacks,
           ${pointsSettlementColumns}
    FROM ledger_postings
    WHERE account >= ${from} AND account < ${to} AND unit = ${EUR}
    GROUP BY 1`,
  );
  // Payouts hold the publisher's row lock while they read its balance; a settlement (whose net may be negative) waits for
  // them. NO KEY: other operators' chunks hold the row FOR KEY SHARE (their lines' foreign key) and need not wait.
  await client.query(
    'SELECT 1 FROM publishers WHERE id IN (SELECT publisher_id FROM run_settlement) ORDER BY id FOR NO KEY UPDATE',
  );
  await exec(
    client,
    Prisma.sql`
    INSERT INTO settlements (billing_run_id, publisher_id, operator_id, through, gross, commission, refunds, chargebacks,
                             points_issued_value, points_redeemed_value, net, created_at)
    SELECT ${run.id}, publisher_id, ${run.operatorId}, ${run.through}, gross, commission, refunds, chargebacks,
           points_issued, points_redeemed, gross - commission - refunds - chargebacks + ${pointsNetSql}, ${now}
    FROM run_settlement
    WHERE gross <> 0 OR commission <> 0 OR refunds <> 0 OR chargebacks <> 0 OR ${pointsNonZeroSql}`,
  );
  const unsettled = (kind: string) =>
    Prisma.sql`'unsettled:' || ${run.operatorId}::text || ':' || s.publisher_id || ':' || ${kind}::text`;
  // A sandbox run settles into accounts.sandboxPayable, which no balance or payout reads.
  const payableKind = Prisma.sql`(SELECT CASE WHEN o.sandbox THEN ':sandbox_payable' ELSE ':payable' END
    FROM operators o WHERE o.id = ${run.operatorId})`;
  await exec(
    client,
    Prisma.sql`
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
      UNION ALL SELECT s.publisher_id, 'publisher:' || s.publisher_id || ${payableKind}, -s.net FROM settlements s WHERE s.billing_run_id = ${run.id}
      UNION ALL ${pointsClosingPostings(run.operatorId, run.id)}
    )
    INSERT INTO ledger_postings (entry_id, account, unit, amount)
    SELECT e.id, p.account, ${EUR}::text, p.amount FROM postings p JOIN e ON e.publisher_id = p.publisher_id WHERE p.amount <> 0`,
  );
}

/**
 * The run's last step, once every chunk is done: settlement and close, in one
 * transaction. True when this call finished the run; false when it was not
 * ready (a chunk pending or leased), already finished, or being finished by
 * another worker right now.
 */
export async function finalizeRun(pool: PgPool, billingRunId: string, limits: BillingLimits): Promise<boolean> {
  return billingTransaction(pool, limits, limits.statementMs, async (client) => {
    const [head] = await rows<{ id: string; operator_id: string; through: Date }>(
      client,
      Prisma.sql`
        SELECT r.id, r.operator_id, r.through FROM billing_runs r
        WHERE r.id = ${billingRunId} AND r.status = 'running'
          AND NOT EXISTS (SELECT 1 FROM billing_run_chunks c WHERE c.billing_run_id = r.id AND c.status = 'pending')
          AND EXISTS (SELECT 1 FROM billing_run_chunks c WHERE c.billing_run_id = r.id)
        FOR NO KEY UPDATE OF r SKIP LOCKED`,
    );
    if (!head) return false;
    const run: RunHead = { id: head.id, operatorId: head.operator_id, through: head.through };
    // An outcome (which takes this lock shared) is then wholly in this settlement or wholly in the next.
    await client.query(`SELECT ${operatorBillingLockText('exclusive', '$1::text')}`, [run.operatorId]);
    const now = new Date();
    await settleRun(client, run, now);
    await settleAvailability(client, run, now);
    await exec(
      client,
      Prisma.sql`
        UPDATE billing_runs b SET status = 'done', finished_at = ${now}, error = NULL,
          invoice_count = s.invoice_count, total = s.total
        FROM (SELECT COALESCE(sum(invoice_count), 0)::int AS invoice_count, COALESCE(sum(total), 0) AS total
              FROM billing_run_chunks WHERE billing_run_id = ${run.id}) s
        WHERE b.id = ${run.id}`,
    );
    return true;
  });
}

export interface StoredRunSummary {
  status: StoredRunStatus;
  invoiceCount: number;
  total: string;
  error: string | null;
}

export async function runSummary(pool: PgPool, billingRunId: string): Promise<StoredRunSummary | null> {
  const { rows: found } = await pool.query<{
    status: StoredRunStatus;
    invoice_count: number;
    total: string;
    error: string | null;
  }>('SELECT status, invoice_count, total::text AS total, error FROM billing_runs WHERE id = $1', [billingRunId]);
  const row = found[0];
  return row ? { status: row.status, invoiceCount: row.invoice_count, total: row.total, error: row.error } : null;
}

/** Counts a failed attempt at a chunk, and returns how many there have been. */
export async function recordChunkFailure(pool: PgPool, lease: ChunkLease, message: string): Promise<number> {
  const { rows: found } = await pool.query<{ attempts: number }>(
    `UPDATE billing_run_chunks SET attempts = attempts + 1, error = $3
     WHERE billing_run_id = $1 AND chunk_no = $2 RETURNING attempts`,
    [lease.billingRunId, lease.chunkNo, message.slice(0, 1000)],
  );
  return found[0]?.attempts ?? 0;
}

/** Running runs (of the operators in scope, when given): each may have a free chunk or its last step to do. */
export async function runningRunIds(pool: PgPool, operatorIds?: readonly string[]): Promise<string[]> {
  const { rows: found } = await pool.query<{ id: string }>(
    `SELECT id FROM billing_runs WHERE status = 'running' AND ($1::text[] IS NULL OR operator_id = ANY($1::text[]))
     ORDER BY id`,
    [operatorIds ? [...operatorIds] : null],
  );
  return found.map((r) => r.id);
}
