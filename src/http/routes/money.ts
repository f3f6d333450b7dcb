import { Router } from 'express';
import { z } from 'zod';
import { Decimal, formatAmount } from '../../domain/money.js';
import { balanceResource, createPayout, payoutResource, publisherBalance } from '../../domain/payouts.js';
import { publisherSettlementResource, publisherSettlements } from '../../domain/settlement.js';
import { allBalances, balanceResource as accountResource } from '../../store/ledger.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { amountString, body, pagination, parse } from '../validation.js';

const payoutBody = body({ amount: amountString.refine((v) => new Decimal(v).gt(0), 'must be above 0.00') });
const publisherId = z.string().min(1).max(64);

/** Admin: the journal's balances, and payouts to publishers. */
export function adminMoneyRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'admin'));

  router.get('/ledger/balances', async (_req, res) => {
    const balances = await allBalances(ctx.db);
    const totalDebit = balances.reduce((s, b) => s.plus(b.debit), new Decimal(0));
    const totalCredit = balances.reduce((s, b) => s.plus(b.credit), new Decimal(0));
    res.json({ accounts: balances.map(accountResource), totalDebit: formatAmount(totalDebit), totalCredit: formatAmount(totalCredit) });
  });

  router.post('/publishers/:id/payouts', async (req, res) => {
    const id = parse(publisherId, req.params.id);
    const input = parse(payoutBody, req.body ?? {});
    const key = idempotencyKey(req, true);
    await respondOnce(ctx, req, res, key, async (tx) => ({
      status: 201,
      body: payoutResource(await createPayout(tx, id, new Decimal(input.amount))),
    }));
  });

  return router;
}

/** Publisher: its own settlements and balance. */
export function publisherMoneyRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/settlements', allow(ctx, 'publisher'), async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const query = parse(pagination, req.query);
    const rows = await publisherSettlements(ctx.db, publisher.id, query.limit, query.cursor);
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    res.json({ data: items.map(publisherSettlementResource), nextCursor: rows.length > query.limit && last ? last.billingRunId : null });
  });

  router.get('/balance', allow(ctx, 'publisher'), async (_req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    res.json(balanceResource(await publisherBalance(ctx.db, publisher.id)));
  });

  return router;
}
