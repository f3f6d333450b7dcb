import { Router } from 'express';
import { z } from 'zod';
import { suspensionPolicy } from '../../domain/dispute-rate.js';
import {
  DISPUTE_STATUSES,
  findDispute,
  listDisputes,
  openDispute,
  respondToDispute,
  type DisputeParty,
} from '../../domain/disputes.js';
import { invalidRequest, notFound } from '../../domain/errors.js';
import { operatorSubscriber } from '../../domain/subscribers.js';
import type { Actor } from '../actors.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { disputeResource } from '../presenters/resources.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { page } from '../pagination.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { body, pagination, parse } from '../validation.js';

export const disputeId = z.string().min(1).max(64);

export const openBody = body({
  purchaseId: z.string().min(1).max(64),
  reason: z.string().trim().min(1).max(1000),
  subscriberRef: z.string().min(1).max(255).optional(),
});

export const responseBody = body({
  accept: z.boolean(),
  evidence: z.string().trim().min(1).max(8000).optional(),
});

export const disputeListQuery = pagination.extend({ status: z.enum(DISPUTE_STATUSES).optional() });

export function partyOf(actor: Actor): DisputeParty {
  switch (actor.kind) {
    case 'subscriber':
      return { kind: 'subscriber', subscriberId: actor.subscriber.id };
    case 'operator':
      return { kind: 'operator', operatorId: actor.operator.id };
    case 'publisher':
      return { kind: 'publisher', publisherId: actor.publisher.id };
    case 'admin':
      throw notFound('Dispute');
  }
}

export function disputeRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl } = ctx.config;

  router.post('/', allow(ctx, 'subscriber', 'operator'), async (req, res) => {
    const actor = actorOf(res, 'subscriber', 'operator');
    const input = parse(openBody, req.body);
    if (actor.kind === 'operator' && input.subscriberRef === undefined) {
      throw invalidRequest('An operator opens a dispute for one of its subscribers', {
        fields: { subscriberRef: 'required for operator credentials' },
      });
    }
    if (actor.kind === 'subscriber' && input.subscriberRef !== undefined) {
      throw invalidRequest('A subscriber opens disputes for itself only', {
        fields: { subscriberRef: 'only for operator credentials' },
      });
    }
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (sql) => {
      const subscriber =
        actor.kind === 'subscriber'
          ? actor.subscriber
          : await operatorSubscriber(sql, actor.operator.id, input.subscriberRef as string);
      const dispute = await openDispute(
        sql,
        { purchaseId: input.purchaseId, subscriber, openedBy: actor.kind, reason: input.reason },
        { publicUrl, suspension: suspensionPolicy(ctx.config) },
      );
      return { status: 201, body: disputeResource(dispute, actor.kind, publicUrl) };
    });
  });

  router.get('/', allow(ctx, 'subscriber', 'operator', 'publisher'), async (req, res) => {
    const actor = actorOf(res, 'subscriber', 'operator', 'publisher');
    const { limit, cursor, status } = parse(disputeListQuery, req.query);
    const rows = await listDisputes(ctx.database.sql, partyOf(actor), {
      limit: limit + 1,
      ...(cursor ? { cursor } : {}),
      ...(status ? { status } : {}),
    });
    const { items, nextCursor } = page(rows, limit);
    res.json({ data: items.map((d) => disputeResource(d, actor.kind, publicUrl)), nextCursor });
  });

  router.get('/:id', allow(ctx, 'subscriber', 'operator', 'publisher'), async (req, res) => {
    const actor = actorOf(res, 'subscriber', 'operator', 'publisher');
    const dispute = await findDispute(ctx.database.sql, parse(disputeId, req.params.id), partyOf(actor));
    res.json(disputeResource(dispute, actor.kind, publicUrl));
  });

  router.post('/:id/response', allow(ctx, 'publisher'), async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const id = parse(disputeId, req.params.id);
    const input = parse(responseBody, req.body);
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (sql) => {
      const dispute = await respondToDispute(
        sql,
        id,
        publisher.id,
        { accept: input.accept, evidence: input.evidence ?? null },
        publicUrl,
      );
      return { status: 200, body: disputeResource(dispute, 'publisher', publicUrl) };
    });
  });

  return router;
}

const idParam = z.object({ id: disputeId });

export const disputeOperations = operations(
  {
    method: 'post',
    path: '/v1/disputes',
    tag: 'Disputes',
    summary: 'Open a dispute on a confirmed purchase (subscriber, or operator naming `subscriberRef`)',
    actors: ['subscriber', 'operator'],
    body: openBody,
    responses: { 201: { description: 'Opened', schema: schema.dispute } },
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/v1/disputes',
    tag: 'Disputes',
    summary: 'Disputes the caller is party to, newest first',
    actors: ['subscriber', 'operator', 'publisher'],
    query: disputeListQuery,
    responses: { 200: { description: 'A page', schema: schema.list(schema.dispute) } },
  },
  {
    method: 'get',
    path: '/v1/disputes/:id',
    tag: 'Disputes',
    summary: 'One dispute',
    actors: ['subscriber', 'operator', 'publisher'],
    params: idParam,
    responses: { 200: { description: 'The dispute', schema: schema.dispute } },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/disputes/:id/response',
    tag: 'Disputes',
    summary: 'The publisher accepts (refund) or contests (the operator decides)',
    actors: ['publisher'],
    params: idParam,
    body: responseBody,
    responses: { 200: { description: 'The dispute', schema: schema.dispute } },
    errors: [404, 409],
  },
);
