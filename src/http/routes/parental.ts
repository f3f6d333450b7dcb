import { Router } from 'express';
import { z } from 'zod';
import { CATEGORIES } from '../../domain/categories.js';
import { childControls, replaceControls } from '../../domain/parental-controls.js';
import { actorOf, allow } from '../auth.js';
import { controlsResource } from '../presenters/controls.js';
import type { AppContext } from '../context.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { body, parse } from '../validation.js';
import { amount } from '../../shared/money.js';

export const childRef = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const controlsBody = body({
  blocked: z.boolean().optional(),
  blockedCategories: z
    .array(z.enum(CATEGORIES))
    .max(CATEGORIES.length * 2)
    .optional(),
  weekly: amount.nullable().optional(),
  monthly: amount.nullable().optional(),
  pointsAllowed: z.boolean().optional(),
});

/** /v1/me/children/:externalRef/controls: a holder's parental controls over a child. */
export function parentalRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'subscriber'));

  router.get('/:externalRef/controls', async (req, res) => {
    const { subscriber } = actorOf(res, 'subscriber');
    res.json(
      controlsResource(await childControls(ctx.database.sql, subscriber, parse(childRef, req.params.externalRef))),
    );
  });

  router.put('/:externalRef/controls', async (req, res) => {
    const { subscriber } = actorOf(res, 'subscriber');
    const ref = parse(childRef, req.params.externalRef);
    const input = parse(controlsBody, req.body ?? {});
    // PUT replaces, so it is idempotent by nature and needs no Idempotency-Key.
    const controls = await replaceControls(ctx.database, subscriber, ref, {
      blocked: input.blocked ?? false,
      blockedCategories: input.blockedCategories ?? [],
      weekly: input.weekly ?? null,
      monthly: input.monthly ?? null,
      pointsAllowed: input.pointsAllowed ?? false,
    });
    res.json(controlsResource(controls));
  });

  return router;
}

const childParam = z.object({ externalRef: childRef });

export const parentalOperations = operations(
  {
    method: 'get',
    path: '/v1/me/children/:externalRef/controls',
    tag: 'Subscriber',
    summary: "A child's parental controls (its holder only)",
    actors: ['subscriber'],
    params: childParam,
    responses: { 200: { description: 'The controls', schema: schema.controls } },
    errors: [404],
  },
  {
    method: 'put',
    path: '/v1/me/children/:externalRef/controls',
    tag: 'Subscriber',
    summary: "Replace a child's controls, in force at once; an omitted field takes its default",
    actors: ['subscriber'],
    params: childParam,
    body: controlsBody,
    responses: { 200: { description: 'The controls', schema: schema.controls } },
    errors: [404],
  },
);
