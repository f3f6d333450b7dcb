import { Router } from 'express';
import { z } from 'zod';
import { publisherDisputeStanding, suspensionPolicy } from '../../domain/dispute-rate.js';
import { allow } from '../auth.js';
import { disputeRateResource } from '../presenters/dispute-rate.js';
import type { AppContext } from '../context.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { parse } from '../validation.js';

const publisherId = z.string().min(1).max(64);

export function adminDisputeRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/publishers/:id/dispute-rate', allow(ctx, 'admin'), async (req, res) => {
    const id = parse(publisherId, req.params.id);
    const { stats, suspendedAt } = await publisherDisputeStanding(ctx.database.sql, id, new Date());
    res.json(disputeRateResource(id, stats, suspensionPolicy(ctx.config), suspendedAt));
  });

  return router;
}

export const adminDisputeOperations = operations({
  method: 'get',
  path: '/v1/admin/publishers/:id/dispute-rate',
  tag: 'Admin',
  summary: "A publisher's dispute rate over 30 days and whether it would be suspended",
  actors: ['admin'],
  params: z.object({ id: publisherId }),
  responses: { 200: { description: 'The rate', schema: schema.disputeRate } },
  errors: [404],
});
