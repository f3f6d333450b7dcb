import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { createBillingRun, listBillingRuns, operatorBillingRun } from '../../domain/billing.js';
import {
  listInvoices,
  operatorInvoice,
  recordInvoiceOutcome,
  runDocuments,
  runDocumentsWithLines,
  runReconciliation,
  type OutcomeInput,
} from '../../domain/billing-invoices.js';
import { runSettlement } from '../../domain/settlement.js';
import {
  billingRunResource,
  INVOICE_CSV_COLUMNS,
  invoiceCsvRows,
  invoiceResource,
  RECONCILIATION_CSV_COLUMNS,
  reconciliationCsvRows,
  reconciliationResource,
} from '../presenters/billing.js';
import { csvSafeRow, type CsvCell } from '../presenters/csv.js';
import { settlementResource } from '../presenters/money.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { page } from '../pagination.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { body, pagination, parse } from '../validation.js';
import { amountString, Decimal } from '../../shared/money.js';

export const resourceId = z.string().min(1).max(64);

export const billingRunBody = body({
  through: z.iso
    .datetime({ offset: true, error: 'expected an ISO-8601 time such as "2026-11-30T23:00:00Z"' })
    .refine((value) => Date.parse(value) <= Date.now(), 'must not be in the future')
    .optional(),
});

export const invoiceQuery = pagination.extend({ billingRun: resourceId });

export const outcomeBody = z.discriminatedUnion('status', [
  body({ status: z.enum(['paid', 'unpaid']) }),
  body({ status: z.literal('partially_paid'), collected: amountString }),
]);

function outcomeInput(input: z.output<typeof outcomeBody>): OutcomeInput {
  return input.status === 'partially_paid'
    ? { status: input.status, collected: new Decimal(input.collected) }
    : { status: input.status };
}

/**
 * Streams rows as CSV, every cell through csvSafeRow. Once headers are sent a
 * failure can only cut the response short.
 */
async function sendCsv(
  ctx: AppContext,
  res: Response,
  filename: string,
  columns: (string | { key: string; header: string })[],
  source: AsyncIterable<Record<string, CsvCell>>,
): Promise<void> {
  res.status(200).type('text/csv; charset=utf-8').attachment(filename);
  const rows = Readable.from(
    (async function* () {
      for await (const row of source) yield csvSafeRow(row);
    })(),
  );
  try {
    await pipeline(rows, stringify({ header: true, columns }), res);
  } catch (error) {
    ctx.logger.error({ err: error, filename }, 'CSV stream failed');
    res.destroy();
  }
}

export function billingRunRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'operator'));

  router.post('/', async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    const input = parse(billingRunBody, req.body ?? {});
    const key = idempotencyKey(req, true);
    let createdId: string | null = null;
    await respondOnce(ctx, req, res, key, async (sql) => {
      const run = await createBillingRun(sql, operator.id, input.through ? new Date(input.through) : new Date());
      createdId = run.id;
      return { status: 202, body: billingRunResource(run) };
    });
    // After the commit; should Redis refuse, the run is in PostgreSQL and the workers' sweep enqueues it.
    if (createdId && ctx.enqueueBillingRun) {
      await ctx
        .enqueueBillingRun(createdId)
        .catch((error: unknown) =>
          ctx.logger.warn({ err: error, billingRunId: createdId }, 'billing run not enqueued; the sweep will'),
        );
    }
  });

  router.get('/', async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    const query = parse(pagination, req.query);
    const rows = await listBillingRuns(ctx.database, operator.id, query.limit, query.cursor);
    const { items, nextCursor } = page(rows, query.limit);
    res.json({ data: items.map(billingRunResource), nextCursor });
  });

  router.get('/:id', async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    res.json(
      billingRunResource(await operatorBillingRun(ctx.database.sql, operator.id, parse(resourceId, req.params.id))),
    );
  });

  router.get('/:id/settlement', async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    const run = await operatorBillingRun(ctx.database.sql, operator.id, parse(resourceId, req.params.id));
    const rows = await runSettlement(ctx.database.sql, run.id);
    res.json({
      billingRunId: run.id,
      status: run.status,
      data: rows.map((r) => settlementResource(r.publisherId, r.settlement)),
    });
  });

  router.get('/:id/reconciliation', async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    const run = await operatorBillingRun(ctx.database.sql, operator.id, parse(resourceId, req.params.id));
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      await sendCsv(
        ctx,
        res,
        `reconciliation-${run.id}.csv`,
        [...RECONCILIATION_CSV_COLUMNS],
        reconciliationCsvRows(runDocuments(ctx.database.sql, run.id)),
      );
      return;
    }
    res.json(reconciliationResource(run.id, await runReconciliation(ctx.database.sql, run.id)));
  });

  return router;
}

export function invoiceRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'operator'));

  router.get('/', async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    const query = parse(invoiceQuery, req.query);
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      const run = await operatorBillingRun(ctx.database.sql, operator.id, query.billingRun);
      await sendCsv(
        ctx,
        res,
        `invoices-${run.id}.csv`,
        [...INVOICE_CSV_COLUMNS],
        invoiceCsvRows(runDocumentsWithLines(ctx.database.sql, run.id)),
      );
      return;
    }
    const rows = await listInvoices(ctx.database.sql, operator.id, query.billingRun, query.limit, query.cursor);
    const { items, nextCursor } = page(rows, query.limit);
    res.json({ data: items.map(invoiceResource), nextCursor });
  });

  router.get('/:id', async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    res.json(invoiceResource(await operatorInvoice(ctx.database.sql, operator.id, parse(resourceId, req.params.id))));
  });

  router.post('/:id/outcome', async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    const id = parse(resourceId, req.params.id);
    const input = parse(outcomeBody, req.body ?? {});
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (sql) => ({
      status: 200,
      body: invoiceResource(
        await recordInvoiceOutcome(sql, operator.id, id, outcomeInput(input), ctx.config.publicUrl),
      ),
    }));
  });

  return router;
}

const idParam = z.object({ id: resourceId });

export const operatorBillingOperations = operations(
  {
    method: 'post',
    path: '/v1/operator/billing-runs',
    tag: 'Operator billing',
    summary: 'Start a billing run: confirmed purchases up to `through` not yet invoiced, one invoice per household',
    actors: ['operator'],
    body: billingRunBody,
    idempotencyKeyRequired: true,
    responses: { 202: { description: 'Queued', schema: schema.billingRun } },
    errors: [409],
  },
  {
    method: 'get',
    path: '/v1/operator/billing-runs',
    tag: 'Operator billing',
    summary: "The operator's billing runs, newest first",
    actors: ['operator'],
    query: pagination,
    responses: { 200: { description: 'A page of runs', schema: schema.list(schema.billingRun) } },
  },
  {
    method: 'get',
    path: '/v1/operator/billing-runs/:id',
    tag: 'Operator billing',
    summary: 'A billing run and its progress',
    actors: ['operator'],
    params: idParam,
    responses: { 200: { description: 'The run', schema: schema.billingRun } },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/operator/billing-runs/:id/settlement',
    tag: 'Operator billing',
    summary: "The run's settlement per publisher: gross = commission + net + refunds + chargebacks",
    actors: ['operator'],
    params: idParam,
    responses: {
      200: { description: 'One row per publisher', schema: z.looseObject({ data: z.array(schema.settlementRow) }) },
    },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/operator/billing-runs/:id/reconciliation',
    tag: 'Operator billing',
    summary: 'Billed against collected for a run: billed = collected + uncollected + outstanding',
    description:
      '`Accept: text/csv` gives one row per invoice: invoiceId, type, subscriberRef, total, vatTotal, status, collected.',
    actors: ['operator'],
    params: idParam,
    responses: { 200: { description: 'The reconciliation', schema: schema.reconciliation, csv: true } },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/operator/invoices',
    tag: 'Operator billing',
    summary: "A run's invoices; `Accept: text/csv` gives one row per line",
    actors: ['operator'],
    query: invoiceQuery,
    responses: { 200: { description: 'A page of invoices', schema: schema.list(schema.invoice), csv: true } },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/operator/invoices/:id',
    tag: 'Operator billing',
    summary: 'One invoice with its lines',
    actors: ['operator'],
    params: idParam,
    responses: { 200: { description: 'The invoice', schema: schema.invoice } },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/operator/invoices/:id/outcome',
    tag: 'Operator billing',
    summary: 'Report whether the subscriber paid the invoice; unpaid charges its purchases back',
    actors: ['operator'],
    params: idParam,
    body: outcomeBody,
    responses: { 200: { description: 'The invoice', schema: schema.invoice } },
    errors: [404, 409],
  },
);
