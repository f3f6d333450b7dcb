import { Router } from 'express';
import { z } from 'zod';
import { resolveDispute } from '../../domain/disputes.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { disputeResource } from '../presenters/resources.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { body, parse } from '../validation.js';
import { disputeId } from './disputes.js';

export const resolveBody = body({ outcome: z.enum(['won', 'lost']) });

export function operatorDisputeRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl } = ctx.config;

  router.post('/:id/resolve', allow(ctx, 'operator'), async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    const id = parse(disputeId, req.params.id);
    const input = parse(resolveBody, req.body);
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (sql) => {
      const dispute = await resolveDispute(sql, id, operator.id, input.outcome, publicUrl);
      return { status: 200, body: disputeResource(dispute, 'operator', publicUrl) };
    });
  });

  return router;
}

export const operatorDisputeOperations = operations({
  method: 'post',
  path: '/v1/operator/disputes/:id/resolve',
  tag: 'Disputes',
  summary: 'Decide a dispute the publisher contested',
  actors: ['operator'],
  params: z.object({ id: disputeId }),
  body: resolveBody,
  responses: { 200: { description: 'The dispute', schema: schema.dispute } },
  errors: [404, 409],
});
