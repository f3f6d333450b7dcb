import { Router } from 'express';
import { z } from 'zod';
import { EUR } from '../../shared/accounts.js';
import { formatAmount } from '../../domain/money.js';
import { createPayout, publisherBalance } from '../../domain/payouts.js';
import { publisherSettlements } from '../../domain/settlement.js';
import { allBalances } from '../../domain/ledger.js';
import { accountResource, balanceResource, payoutResource, publisherSettlementResource } from '../presenters/money.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { body, pagination, parse } from '../validation.js';
import { positiveAmountString, Decimal } from '../../shared/money.js';

const payoutBody = body({ amount: positiveAmountString });
const publisherId = z.string().min(1).max(64);
const publisherParams = z.object({ id: publisherId });
/** Sandbox settlements are listed apart, on request: they never mix with live ones. */
const settlementsQuery = pagination.extend({
  sandbox: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .meta({ description: "true lists the settlements of the publisher's sandbox operators instead of its live ones" }),
});

/** Admin: the journal's balances, and payouts to publishers. */
export function adminMoneyRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'admin'));

  router.get('/ledger/balances', async (_req, res) => {
    const balances = await allBalances(ctx.database.sql);
    // Totals are in euros; Kiosque Points accounts (unit PTS) are listed, and balance among themselves.
    const euros = balances.filter((b) => b.unit === EUR);
    const totalDebit = euros.reduce((s, b) => s.plus(b.debit), new Decimal(0));
    const totalCredit = euros.reduce((s, b) => s.plus(b.credit), new Decimal(0));
    res.json({
      accounts: balances.map(accountResource),
      totalDebit: formatAmount(totalDebit),
      totalCredit: formatAmount(totalCredit),
    });
  });

  router.post('/publishers/:id/payouts', async (req, res) => {
    const id = parse(publisherId, req.params.id);
    const input = parse(payoutBody, req.body ?? {});
    const key = idempotencyKey(req, true);
    await respondOnce(ctx, req, res, key, async (sql) => ({
      status: 201,
      body: payoutResource(await createPayout(sql, id, new Decimal(input.amount))),
    }));
  });

  return router;
}

/** Publisher: its own settlements and balance. */
export function publisherMoneyRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/settlements', allow(ctx, 'publisher'), async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const query = parse(settlementsQuery, req.query);
    const rows = await publisherSettlements(ctx.database, publisher.id, query.sandbox, query.limit, query.cursor);
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    res.json({
      data: items.map((row) => publisherSettlementResource(row, query.sandbox)),
      nextCursor: rows.length > query.limit && last ? last.billingRunId : null,
    });
  });

  router.get('/balance', allow(ctx, 'publisher'), async (_req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    res.json(balanceResource(await publisherBalance(ctx.database.sql, publisher.id)));
  });

  return router;
}

export const moneyOperations = operations(
  {
    method: 'get',
    path: '/v1/admin/ledger/balances',
    tag: 'Money',
    summary: 'Every account of the journal with its debits, credits and balance; totalDebit always equals totalCredit',
    actors: ['admin'],
    responses: { 200: { description: 'The balances', schema: schema.ledgerBalances } },
  },
  {
    method: 'post',
    path: '/v1/admin/publishers/:id/payouts',
    tag: 'Money',
    summary: 'Record a payout to a publisher; never takes its balance below zero (409 beyond it)',
    actors: ['admin'],
    params: publisherParams,
    body: payoutBody,
    idempotencyKeyRequired: true,
    responses: { 201: { description: 'The payout', schema: schema.payout } },
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/v1/settlements',
    tag: 'Money',
    summary: "The publisher's own settlements, newest first, each equal to its row in the operator's view",
    actors: ['publisher'],
    query: settlementsQuery,
    responses: { 200: { description: 'A page of settlements', schema: schema.list(schema.publisherSettlement) } },
  },
  {
    method: 'get',
    path: '/v1/balance',
    tag: 'Money',
    summary: 'What Kiosque owes the publisher: available = settled − paidOut',
    actors: ['publisher'],
    responses: { 200: { description: 'The balance', schema: schema.balance } },
  },
);
