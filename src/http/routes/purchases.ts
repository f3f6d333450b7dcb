import { Router, type Request } from 'express';
import { z } from 'zod';
import { CHANNELS, PURCHASE_STATUSES } from '../../shared/catalogue.js';
import { Decimal, positiveAmountString, VAT_RATES } from '../../shared/money.js';
import { listPublisherPurchases } from '../../domain/publisher-lists.js';
import {
  confirmPurchase,
  newPurchase,
  purchaseSeenBy,
  refundPurchase,
  savePendingPurchase,
  type Confirmation,
  type Statements,
} from '../../domain/purchases.js';
import { consentResource, purchaseResource, refundResource } from '../presenters/resources.js';
import { inSubscriberLane } from '../keyed-lane.js';
import { actorOf, admitAssertedSubscriber, allow, allowAssertion, asAssertedSubscriber, assertionOf } from '../auth.js';
import type { AppContext } from '../context.js';
import { errorBody, statusFor } from '../errors.js';
import { idempotencyKey, respondOnceInOneStatement, respondOnce, type Reply } from '../idempotency.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { page } from '../pagination.js';
import type { Sql } from '../../store/sql.js';
import { body, description, httpsUrl, pagination, parse, pointsToSpend, purchaseAmount } from '../validation.js';

/** Consent evidence for confirmations that come through the API rather than the page. */
export const API_CONSENT_VERSION = 'api-v1';

export const purchaseBody = body({
  amount: purchaseAmount,
  currency: z.literal('EUR'),
  description,
  channel: z.enum(CHANNELS),
  kind: z.enum(['article', 'credits']).default('article'),
  credits: z.number().int().positive().max(1_000_000).optional(),
  returnUrl: httpsUrl.optional(),
  vatRate: z.enum(VAT_RATES).optional(),
}).superRefine((value, issue) => {
  if (value.kind === 'credits' && value.credits === undefined) {
    issue.addIssue({ code: 'custom', path: ['credits'], message: 'required when kind is "credits"' });
  }
  if (value.kind !== 'credits' && value.credits !== undefined) {
    issue.addIssue({ code: 'custom', path: ['credits'], message: 'only allowed when kind is "credits"' });
  }
});

export const refundBody = body({
  amount: positiveAmountString.optional(),
});

export const purchaseId = z.string().min(1).max(64);

/** Kiosque Points: how many of the household's available points pay part or all of the price. */
export const confirmBody = body({ points: pointsToSpend.optional() });

export function confirmationReply(result: Confirmation, publicUrl: string): Reply {
  if (result.outcome === 'declined') {
    return {
      status: statusFor(result.code),
      body: errorBody(result.code, declineMessages[result.code], { purchaseId: result.purchase.id }),
    };
  }
  return { status: 200, body: purchaseResource(result.purchase, publicUrl) };
}

export const declineMessages = {
  per_purchase_limit: 'This purchase is above your per-purchase limit',
  weekly_ceiling: 'This purchase would pass your weekly spending ceiling',
  monthly_ceiling: 'This purchase would pass your monthly spending ceiling',
  account_blocked: 'Purchases are blocked on this account',
  category_blocked: 'Purchases in this category are blocked on this account',
  publisher_suspended: 'This publisher is suspended',
} as const;

export function consentEvidence(req: Request, assertionId: string, pageVersion: string) {
  return { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null, pageVersion, assertionId };
}

export const purchaseListQuery = pagination.extend({ status: z.enum(PURCHASE_STATUSES).optional() });

export function purchaseRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl } = ctx.config;

  router.get('/', allow(ctx, 'publisher'), async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const query = parse(purchaseListQuery, req.query);
    const { items, nextCursor } = page(await listPublisherPurchases(ctx.database, publisher.id, query), query.limit);
    res.json({ data: items.map((p) => purchaseResource(p, publicUrl)), nextCursor });
  });

  router.post('/', allow(ctx, 'publisher'), async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const input = parse(purchaseBody, req.body);
    const key = idempotencyKey(req, true);
    const purchase = newPurchase(publisher, {
      amount: new Decimal(input.amount),
      description: input.description,
      channel: input.channel,
      kind: input.kind,
      credits: input.credits ?? null,
      returnUrl: input.returnUrl ?? null,
      ...(input.vatRate ? { vatRate: input.vatRate } : {}),
    });
    const reply = { status: 201, body: purchaseResource(purchase, publicUrl) };
    await respondOnceInOneStatement(req, res, key, reply, (keyed) =>
      savePendingPurchase(ctx.database, purchase, keyed),
    );
  });

  router.get('/:id', allow(ctx, 'publisher', 'subscriber'), async (req, res) => {
    const actor = actorOf(res, 'publisher', 'subscriber');
    const seenBy =
      actor.kind === 'publisher' ? { publisherId: actor.publisher.id } : { subscriberId: actor.subscriber.id };
    const { purchase, withConsent } = await purchaseSeenBy(ctx.database.sql, parse(purchaseId, req.params.id), seenBy);
    res.json({
      ...purchaseResource(purchase, publicUrl),
      ...(withConsent ? { consent: consentResource(purchase) } : {}),
    });
  });

  /** Without a key, each statement is its own transaction and points or notifications open one of their own. */
  const onThePool: Statements = ctx.database;

  router.post('/:id/confirm', allowAssertion(ctx), async (req, res) => {
    const asserted = assertionOf(res);
    const id = parse(purchaseId, req.params.id);
    const input = parse(confirmBody, req.body ?? {});
    const key = idempotencyKey(req, false);
    const confirm = async (runner: Sql | Statements) =>
      confirmationReply(
        await confirmPurchase(
          runner,
          id,
          asserted,
          consentEvidence(req, asserted.assertionId, API_CONSENT_VERSION),
          publicUrl,
          new Date(),
          input.points ?? 0,
        ),
        publicUrl,
      );
    await inSubscriberLane(asserted, async () => {
      if (key !== null) {
        // A key is scoped to the subscriber's id, needed before the key is claimed: found first.
        await admitAssertedSubscriber(ctx, req, res);
        return respondOnce(ctx, req, res, key, confirm);
      }
      const reply = await asAssertedSubscriber(ctx, req, res, () => confirm(onThePool));
      res.status(reply.status).json(reply.body);
    });
  });

  router.post('/:id/refunds', allow(ctx, 'publisher'), async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const id = parse(purchaseId, req.params.id);
    const input = parse(refundBody, req.body ?? {});
    const key = idempotencyKey(req, true);
    await respondOnce(ctx, req, res, key, async (sql) => {
      const { refund, purchase } = await refundPurchase(
        sql,
        id,
        input.amount ? new Decimal(input.amount) : null,
        'publisher',
        publicUrl,
        { publisherId: publisher.id },
      );
      return {
        status: 201,
        body: { ...refundResource(refund), purchase: purchaseResource(purchase, publicUrl) },
      };
    });
  });

  return router;
}

const idParam = z.object({ id: purchaseId });

export const purchaseOperations = operations(
  {
    method: 'get',
    path: '/v1/purchases',
    tag: 'Purchases',
    summary: "The publisher's own purchases, newest first, filterable by status",
    actors: ['publisher'],
    query: purchaseListQuery,
    responses: { 200: { description: 'A page', schema: schema.list(schema.purchase) } },
  },
  {
    method: 'post',
    path: '/v1/purchases',
    tag: 'Purchases',
    summary: 'Click one: create a pending purchase and get the consent URL to send the subscriber to',
    description: 'Amounts above 0.00 and at most 50.00. The purchase expires 10 minutes after creation.',
    actors: ['publisher'],
    body: purchaseBody,
    idempotencyKeyRequired: true,
    responses: { 201: { description: 'Pending', schema: schema.purchase } },
    errors: [409],
  },
  {
    method: 'get',
    path: '/v1/purchases/:id',
    tag: 'Purchases',
    summary: 'One purchase (its publisher, or its subscriber)',
    actors: ['publisher', 'subscriber'],
    params: idParam,
    responses: { 200: { description: 'The purchase', schema: schema.purchase } },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/purchases/:id/confirm',
    tag: 'Purchases',
    summary: 'Click two, for API clients: the subscriber confirms; 402 when declined',
    description:
      "`points` pays part or all of the price with the household's available Kiosque Points, at the " +
      "operator's point value; `amount` is then the euro part. Points worth more than the price are 400, more " +
      'than the household has available or in no programme 409, a child without `pointsAllowed` 403: nothing changes.',
    actors: ['subscriber'],
    params: idParam,
    body: confirmBody,
    responses: { 200: { description: 'Confirmed', schema: schema.purchase } },
    errors: [400, 402, 403, 404, 409, 410],
  },
  {
    method: 'post',
    path: '/v1/purchases/:id/refunds',
    tag: 'Purchases',
    summary: 'Refund part or all of what is left of a purchase',
    actors: ['publisher'],
    params: idParam,
    body: refundBody,
    idempotencyKeyRequired: true,
    responses: { 201: { description: 'Refunded', schema: schema.refund } },
    errors: [404, 409],
  },
);
