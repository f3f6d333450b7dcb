import { Router } from 'express';
import { z } from 'zod';
import { renderPain001 } from '../../domain/pain001.js';
import { createPayoutRun, DEFAULT_PAYOUT_MINIMUM, payoutRun } from '../../domain/payout-runs.js';
import { listPublisherPayouts } from '../../domain/payouts.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import * as schema from '../openapi/cash-schemas.js';
import { list } from '../openapi/schemas.js';
import { operations } from '../openapi/operation.js';
import { page } from '../pagination.js';
import { payoutRunResource, publisherPayoutResource } from '../presenters/cash.js';
import { body, pagination, parse } from '../validation.js';
import { amountString, Decimal } from '../../shared/money.js';

/** A calendar date that exists: 2026-02-30 is refused. */
const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date such as 2026-12-15')
  .refine((v) => {
    const day = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(v);
  }, 'no such date')
  .meta({ format: 'date', example: '2026-12-15' });

const payoutRunBody = body({
  executionDate: calendarDate,
  minimum: amountString.optional().meta({ description: 'Default "100.00"' }),
});
const runParams = z.object({ id: z.string().min(1).max(64) });

/** Admin: payout runs, each one SEPA credit transfer file. */
export function adminPayoutRunRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'admin'));

  router.post('/payout-runs', async (req, res) => {
    const input = parse(payoutRunBody, req.body ?? {});
    const key = idempotencyKey(req, true);
    const minimum = input.minimum === undefined ? DEFAULT_PAYOUT_MINIMUM : new Decimal(input.minimum);
    await respondOnce(ctx, req, res, key, async (sql) => ({
      status: 201,
      body: payoutRunResource(await createPayoutRun(sql, { executionDate: input.executionDate, minimum })),
    }));
  });

  router.get('/payout-runs/:id', async (req, res) => {
    const { id } = parse(runParams, req.params);
    const run = await payoutRun(ctx.database.sql, id);
    if (req.accepts(['application/json', 'application/xml']) === 'application/xml') {
      const document = renderPain001(run, ctx.config.kiosqueAccount);
      res.type('application/xml').send(document);
      return;
    }
    res.json(payoutRunResource(run));
  });

  return router;
}

/** Publisher: its own payouts. */
export function publisherPayoutRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/payouts', allow(ctx, 'publisher'), async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const query = parse(pagination, req.query);
    const rows = await listPublisherPayouts(ctx.database.sql, publisher.id, query);
    const { items, nextCursor } = page(rows, query.limit);
    res.json({ data: items.map(publisherPayoutResource), nextCursor });
  });

  return router;
}

export const payoutRunOperations = operations(
  {
    method: 'post',
    path: '/v1/admin/payout-runs',
    tag: 'Money',
    summary:
      'Pay every publisher not suspended, with a bank account and at least `minimum` available, its whole available',
    actors: ['admin'],
    body: payoutRunBody,
    idempotencyKeyRequired: true,
    responses: { 201: { description: 'The run (count 0 when nobody was eligible)', schema: schema.payoutRun } },
  },
  {
    method: 'get',
    path: '/v1/admin/payout-runs/:id',
    tag: 'Money',
    summary: 'A payout run; with Accept: application/xml, its ISO 20022 pain.001.001.09 credit transfer file',
    actors: ['admin'],
    params: runParams,
    responses: { 200: { description: 'The run, or its pain.001 document', schema: schema.payoutRun } },
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/v1/payouts',
    tag: 'Money',
    summary: "The publisher's payouts, newest first, with what the bank said of each: created, paid or returned",
    actors: ['publisher'],
    query: pagination,
    responses: { 200: { description: 'A page of payouts', schema: list(schema.publisherPayout) } },
  },
);
