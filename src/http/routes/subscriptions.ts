import { Router } from 'express';
import { z } from 'zod';
import { VAT_RATES, Decimal } from '../../shared/money.js';
import { CHANNELS, PLANS, SUBSCRIPTION_STATUSES } from '../../shared/catalogue.js';
import { CURRENCY } from '../../shared/money.js';
import { listPublisherSubscriptions } from '../../domain/publisher-lists.js';
import { subscriptionResource } from '../presenters/resources.js';
import {
  assertPriceTier,
  cancelSubscription,
  confirmSubscription,
  createSubscription,
  type SubscriptionConfirmation,
} from '../../domain/subscriptions.js';
import { subscriptionSeenBy, type SubscriptionViewer } from '../../domain/subscription-visibility.js';
import type { Actor } from '../actors.js';
import { inSubscriberLane } from '../keyed-lane.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { errorBody, statusFor } from '../errors.js';
import { idempotencyKey, respondOnce, type Reply } from '../idempotency.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { page } from '../pagination.js';
import { listSubscriberSubscriptions } from '../../domain/subscriber-lists.js';
import { body, description, httpsUrl, pagination, parse, purchaseAmount } from '../validation.js';
import { API_CONSENT_VERSION, consentEvidence, declineMessages } from './purchases.js';

export const subscriptionBody = body({
  plan: z.enum(PLANS),
  amount: purchaseAmount,
  currency: z.literal(CURRENCY).optional(),
  description,
  channel: z.enum(CHANNELS),
  returnUrl: httpsUrl.optional(),
  vatRate: z.enum(VAT_RATES).optional(),
});

export const subscriptionId = z.string().min(1).max(64);

function viewerOf(actor: Extract<Actor, { kind: 'publisher' | 'subscriber' }>): SubscriptionViewer {
  return actor.kind === 'publisher'
    ? { kind: 'publisher', publisherId: actor.publisher.id }
    : { kind: 'subscriber', subscriberId: actor.subscriber.id };
}

export function subscriptionConfirmationReply(result: SubscriptionConfirmation, publicUrl: string): Reply {
  if (result.outcome === 'declined') {
    return {
      status: statusFor(result.code),
      body: errorBody(result.code, declineMessages[result.code], { subscriptionId: result.subscription.id }),
    };
  }
  return { status: 200, body: subscriptionResource(result.subscription, publicUrl) };
}

export const subscriptionListQuery = pagination.extend({ status: z.enum(SUBSCRIPTION_STATUSES).optional() });

export function subscriptionRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl } = ctx.config;

  router.get('/', allow(ctx, 'publisher'), async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const query = parse(subscriptionListQuery, req.query);
    const { items, nextCursor } = page(
      await listPublisherSubscriptions(ctx.database, publisher.id, query),
      query.limit,
    );
    res.json({ data: items.map((s) => subscriptionResource(s, publicUrl)), nextCursor });
  });

  router.post('/', allow(ctx, 'publisher'), async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const input = parse(subscriptionBody, req.body);
    const amount = new Decimal(input.amount);
    assertPriceTier(input.plan, amount);
    const key = idempotencyKey(req, true);
    await respondOnce(ctx, req, res, key, async (sql) => {
      const subscription = await createSubscription(sql, publisher, {
        plan: input.plan,
        amount,
        description: input.description,
        channel: input.channel,
        returnUrl: input.returnUrl ?? null,
        ...(input.vatRate ? { vatRate: input.vatRate } : {}),
      });
      return { status: 201, body: subscriptionResource(subscription, publicUrl) };
    });
  });

  router.get('/:id', allow(ctx, 'publisher', 'subscriber'), async (req, res) => {
    const actor = actorOf(res, 'publisher', 'subscriber');
    const subscription = await subscriptionSeenBy(
      ctx.database.sql,
      parse(subscriptionId, req.params.id),
      viewerOf(actor),
    );
    res.json(subscriptionResource(subscription, publicUrl));
  });

  router.post('/:id/confirm', allow(ctx, 'subscriber'), async (req, res) => {
    const actor = actorOf(res, 'subscriber');
    const id = parse(subscriptionId, req.params.id);
    const key = idempotencyKey(req, false);
    await inSubscriberLane(actor.subscriber, () =>
      respondOnce(ctx, req, res, key, async (sql) =>
        subscriptionConfirmationReply(
          await confirmSubscription(
            sql,
            id,
            actor.subscriber,
            consentEvidence(req, actor.assertionId, API_CONSENT_VERSION),
            publicUrl,
          ),
          publicUrl,
        ),
      ),
    );
  });

  router.post('/:id/cancel', allow(ctx, 'publisher', 'subscriber'), async (req, res) => {
    const actor = actorOf(res, 'publisher', 'subscriber');
    const id = parse(subscriptionId, req.params.id);
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (sql) => ({
      status: 200,
      body: subscriptionResource(await cancelSubscription(sql, id, viewerOf(actor), publicUrl), publicUrl),
    }));
  });

  return router;
}

/** GET /v1/me/subscriptions: the subscriber's own, newest first. */
export function meSubscriptionRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/', allow(ctx, 'subscriber'), async (req, res) => {
    const { subscriber } = actorOf(res, 'subscriber');
    const { limit, cursor } = parse(pagination, req.query);
    const rows = await listSubscriberSubscriptions(ctx.database, subscriber.id, { limit, cursor });
    const { items, nextCursor } = page(rows, limit);
    res.json({ data: items.map((s) => subscriptionResource(s, ctx.config.publicUrl)), nextCursor });
  });
  return router;
}

const idParam = z.object({ id: subscriptionId });

export const subscriptionOperations = operations(
  {
    method: 'get',
    path: '/v1/subscriptions',
    tag: 'Subscriptions',
    summary: "The publisher's own subscriptions, newest first, filterable by status",
    actors: ['publisher'],
    query: subscriptionListQuery,
    responses: { 200: { description: 'A page', schema: schema.list(schema.subscription) } },
  },
  {
    method: 'post',
    path: '/v1/subscriptions',
    tag: 'Subscriptions',
    summary: 'Offer a subscription; price tiers: at most 5.00 weekly, 30.00 monthly or quarterly',
    actors: ['publisher'],
    body: subscriptionBody,
    idempotencyKeyRequired: true,
    responses: { 201: { description: 'Pending', schema: schema.subscription } },
    errors: [409],
  },
  {
    method: 'get',
    path: '/v1/subscriptions/:id',
    tag: 'Subscriptions',
    summary: 'One subscription (its publisher, or its subscriber)',
    actors: ['publisher', 'subscriber'],
    params: idParam,
    responses: { 200: { description: 'The subscription', schema: schema.subscription } },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/subscriptions/:id/confirm',
    tag: 'Subscriptions',
    summary: 'The subscriber confirms; the first period is charged at once, under the same ceilings',
    actors: ['subscriber'],
    params: idParam,
    responses: { 200: { description: 'Active', schema: schema.subscription } },
    errors: [402, 404, 410],
  },
  {
    method: 'post',
    path: '/v1/subscriptions/:id/cancel',
    tag: 'Subscriptions',
    summary: 'Cancel (its publisher or its subscriber)',
    actors: ['publisher', 'subscriber'],
    params: idParam,
    responses: { 200: { description: 'Canceled', schema: schema.subscription } },
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/v1/me/subscriptions',
    tag: 'Subscriber',
    summary: "The subscriber's own subscriptions, newest first",
    actors: ['subscriber'],
    query: pagination,
    responses: { 200: { description: 'A page', schema: schema.list(schema.subscription) } },
  },
);
