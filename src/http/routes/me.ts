import { Router } from 'express';
import { budget } from '../../domain/ceilings.js';
import { purchaseResource } from '../../domain/resources.js';
import { spentBy, subscriberLimits } from '../../domain/spending.js';
import type { Subscriber } from '../../generated/prisma/client.js';
import type { Db } from '../../store/db.js';
import { onPrisma } from '../../store/sql.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { page } from '../pagination.js';
import { pagination, parse } from '../validation.js';
import { childOf } from '../../domain/parental-controls.js';
import { childRef } from './parental.js';

export async function budgetOf(db: Db, subscriber: Subscriber, now = new Date()) {
  const operator = await db.operator.findUniqueOrThrow({ where: { id: subscriber.operatorId } });
  const spent = await spentBy(onPrisma(db), subscriber.id, now);
  return budget(subscriberLimits(subscriber, operator), spent.week, spent.month);
}

export function meRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'subscriber'));

  router.get('/budget', async (_req, res) => {
    const { subscriber } = actorOf(res, 'subscriber');
    res.json(await budgetOf(ctx.db, subscriber));
  });

  router.get('/purchases', async (req, res) => {
    const { subscriber } = actorOf(res, 'subscriber');
    const { limit, cursor, child } = parse(pagination.extend({ child: childRef.optional() }), req.query);
    // ?child=REF: a holder's view of one child's purchases; childOf refuses anyone else.
    const owner = child ? await childOf(ctx.db, subscriber, child) : subscriber;
    const rows = await ctx.db.purchase.findMany({
      where: { subscriberId: owner.id, ...(cursor ? { id: { lt: cursor } } : {}) },
      orderBy: { id: 'desc' },
      take: limit + 1,
    });
    const { items, nextCursor } = page(rows, limit);
    res.json({ data: items.map((p) => purchaseResource(p, ctx.config.publicUrl)), nextCursor });
  });

  return router;
}
