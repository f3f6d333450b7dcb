import { Router } from 'express';
import { z } from 'zod';
import { listWebhookEvents } from '../../domain/webhook-events.js';
import { webhookEventResource } from '../presenters/webhook-events.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { page } from '../pagination.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { pagination, parse } from '../validation.js';

export const eventsQuery = pagination.extend({
  status: z.enum(['pending', 'delivered', 'failed', 'skipped']).optional(),
});

/** A publisher's view of its own webhook outbox, to see what was sent and why a delivery failed. */
export function webhookRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'publisher'));

  router.get('/events', async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const query = parse(eventsQuery, req.query);
    const rows = await listWebhookEvents(ctx.database, publisher.id, query);
    const { items, nextCursor } = page(rows, query.limit);
    res.json({ data: items.map(webhookEventResource), nextCursor });
  });

  return router;
}

export const webhookOperations = operations({
  method: 'get',
  path: '/v1/webhooks/events',
  tag: 'Publisher',
  summary: "The publisher's webhook events with every delivery attempt, newest first",
  actors: ['publisher'],
  query: eventsQuery,
  responses: { 200: { description: 'A page', schema: schema.list(schema.webhookEvent) } },
});
