import { Router } from 'express';
import { z } from 'zod';
import { provisionSubscriber } from '../../domain/subscribers.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { body, parse } from '../validation.js';

export const externalRef = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const subscriberBody = body({
  holderRef: externalRef.nullable().optional(),
  displayName: z.string().trim().min(1).max(200).nullable().optional(),
});

export function operatorSubscriberRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'operator'));

  router.put('/:externalRef', async (req, res) => {
    const { operator } = actorOf(res, 'operator');
    const ref = parse(externalRef, req.params.externalRef);
    const input = parse(subscriberBody, req.body ?? {});
    const result = await provisionSubscriber(ctx.database, operator.id, {
      externalRef: ref,
      holderRef: input.holderRef ?? null,
      displayName: input.displayName,
    });
    res.status(result.created ? 201 : 200).json({
      externalRef: result.subscriber.externalRef,
      role: result.holderRef ? 'child' : 'holder',
      holderRef: result.holderRef,
      displayName: result.subscriber.displayName,
    });
  });

  return router;
}

export const operatorSubscriberOperations = operations({
  method: 'put',
  path: '/v1/operator/subscribers/:externalRef',
  tag: 'Operator',
  summary: 'Provision a subscriber, as a holder or as a child of a holder',
  actors: ['operator'],
  params: z.object({ externalRef }),
  body: subscriberBody,
  responses: {
    200: { description: 'Updated', schema: schema.subscriberProvisioned },
    201: { description: 'Created', schema: schema.subscriberProvisioned },
  },
});
