import { Router } from 'express';
import { budgetResource } from '../presenters/budget.js';
import { householdPointsResource } from '../presenters/points.js';
import { purchaseResource } from '../presenters/resources.js';
import { subscriberBudget } from '../../domain/spending.js';
import { listSubscriberPurchases } from '../../domain/subscriber-lists.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { page } from '../pagination.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { pagination, parse } from '../validation.js';
import { childOf } from '../../domain/parental-controls.js';
import { childRef } from './parental.js';
import { householdPoints } from '../../domain/household-points.js';
import { z } from 'zod';

export const mePointsQuery = pagination.extend({
  cursor: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional(),
});

export const mePurchasesQuery = pagination.extend({ child: childRef.optional() });

export function meRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'subscriber'));

  router.get('/budget', async (_req, res) => {
    const { subscriber } = actorOf(res, 'subscriber');
    res.json(budgetResource(await subscriberBudget(ctx.database.sql, subscriber, new Date())));
  });

  router.get('/purchases', async (req, res) => {
    const { subscriber } = actorOf(res, 'subscriber');
    const { limit, cursor, child } = parse(mePurchasesQuery, req.query);
    // ?child=REF: a holder's view of one child's purchases; childOf refuses anyone else.
    const owner = child ? await childOf(ctx.database.sql, subscriber, child) : subscriber;
    const rows = await listSubscriberPurchases(ctx.database, owner.id, { limit, cursor });
    const { items, nextCursor } = page(rows, limit);
    res.json({ data: items.map((p) => purchaseResource(p, ctx.config.publicUrl)), nextCursor });
  });

  router.get('/points', async (req, res) => {
    const { subscriber } = actorOf(res, 'subscriber');
    const { limit, cursor } = parse(mePointsQuery, req.query);
    res.json(
      householdPointsResource(await householdPoints(ctx.database.sql, subscriber, { cursor: cursor ?? null, limit })),
    );
  });

  return router;
}

export const meOperations = operations(
  {
    method: 'get',
    path: '/v1/me/budget',
    tag: 'Subscriber',
    summary: 'What is left to spend this week and this month',
    actors: ['subscriber'],
    responses: { 200: { description: 'The budget', schema: schema.budget } },
  },
  {
    method: 'get',
    path: '/v1/me/purchases',
    tag: 'Subscriber',
    summary: "The subscriber's purchases, newest first; `?child=` for a holder's child",
    actors: ['subscriber'],
    query: mePurchasesQuery,
    responses: { 200: { description: 'A page', schema: schema.list(schema.purchase) } },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/me/points',
    tag: 'Subscriber',
    summary: "The household's Kiosque Points: available, pending, owed, and their history, newest first",
    description:
      "A child sees its household's points. `history` is a page of `limit` entries; `nextCursor` asks for the next.",
    actors: ['subscriber'],
    query: mePointsQuery,
    responses: { 200: { description: 'The points', schema: schema.points } },
  },
);
