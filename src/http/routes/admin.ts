import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { CATEGORIES } from '../../domain/categories.js';
import {
  REGULATORY_MAX_PER_MONTH,
  REGULATORY_MAX_PER_PURCHASE,
  positiveAmount,
  type Decimal,
} from '../../shared/money.js';
import { VAT_RATES } from '../../shared/money.js';
import { webhookUrlProblem } from '../../domain/webhook-url.js';
import { changeOperator, registerOperator } from '../../domain/operators.js';
import { operatorResource } from '../presenters/operators.js';
import { registerPublisher, setPublisherSuspended } from '../../domain/publishers.js';
import { allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { publisherResource } from '../presenters/publishers.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { body, parse, pointsPerEuro, pointValue } from '../validation.js';

const capped = (cap: Decimal) => positiveAmount.refine((v) => v.lte(cap), `must be at most ${cap.toFixed(2)}`);

/** Each limit within its regulatory cap: 50.00 per purchase, 300.00 a month (and so a week). */
const limitFields = {
  perPurchase: capped(REGULATORY_MAX_PER_PURCHASE),
  weekly: capped(REGULATORY_MAX_PER_MONTH),
  monthly: capped(REGULATORY_MAX_PER_MONTH),
};

/** Checked like publishers' (https, public address) before it is stored. */
const webhookUrlField = z.string().max(2048);

export const operatorBody = body({
  name: z.string().trim().min(1).max(200),
  brand: z.string().trim().min(1).max(100),
  limits: z.strictObject(limitFields).optional(),
  sandbox: z.boolean().optional(),
  webhookUrl: webhookUrlField.optional(),
});

export const operatorPatchBody = body({
  limits: z.strictObject(limitFields).partial().optional(),
  webhookUrl: webhookUrlField.nullable().optional(),
  points: z.strictObject({ enabled: z.boolean(), pointValue: pointValue.optional() }).optional(),
});

export const operatorId = z.string().min(1).max(64);

/** Rates are fractions such as "0.15" (or 0.15); at most four decimals, from 0 to 1. */
const rate = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((v) => /^(0(\.\d{1,4})?|1(\.0{1,4})?)$/.test(v), 'expected a rate from 0 to 1 such as "0.15"');

export const publisherBody = body({
  name: z.string().trim().min(1).max(200),
  category: z.enum(CATEGORIES),
  legalName: z.string().trim().min(1).max(200).optional(),
  supportUrl: z
    .url({ protocol: /^https$/ })
    .max(2048)
    .optional(),
  webhookUrl: webhookUrlField.optional(),
  commissionRates: z.strictObject({ isp: rate.optional(), sms: rate.optional(), voice: rate.optional() }).optional(),
  vatRate: z.enum(VAT_RATES).optional(),
  pointsPerEuro: pointsPerEuro.optional(),
});

/** Refuses, with 400 naming the field, a webhook URL that may not be called. */
export async function assertWebhookUrl(ctx: AppContext, url: string | null | undefined): Promise<void> {
  if (url === undefined || url === null) return;
  const problem = await webhookUrlProblem(url, ctx.config.webhookAllowPrivateNetworks);
  if (problem) throw new AppError('invalid_request', `webhookUrl ${problem}`, { fields: { webhookUrl: problem } });
}

export function adminRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'admin'));

  router.post('/operators', async (req, res) => {
    const input = parse(operatorBody, req.body);
    await assertWebhookUrl(ctx, input.webhookUrl);
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (sql) => {
      const { operator, apiKey } = await registerOperator(sql, input);
      return {
        status: 201,
        body: {
          ...operatorResource(operator),
          apiKey,
          assertionSecret: operator.assertionSecret,
          webhookSecret: operator.webhookSecret,
        },
        secretFields: ['apiKey', 'assertionSecret'],
      };
    });
  });

  router.patch('/operators/:id', async (req, res) => {
    const id = parse(operatorId, req.params.id);
    const input = parse(operatorPatchBody, req.body ?? {});
    await assertWebhookUrl(ctx, input.webhookUrl);
    const { operator, newSecret } = await changeOperator(ctx.database, id, input);
    res.json({ ...operatorResource(operator), ...(newSecret ? { webhookSecret: newSecret } : {}) });
  });

  router.post('/publishers', async (req, res) => {
    const input = parse(publisherBody, req.body);
    await assertWebhookUrl(ctx, input.webhookUrl);
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (sql) => {
      const { publisher, apiKey, webhookSecret } = await registerPublisher(sql, input);
      return {
        status: 201,
        body: { ...publisherResource(publisher), apiKey, webhookSecret },
        secretFields: ['apiKey', 'webhookSecret'],
      };
    });
  });

  for (const action of ['suspend', 'reinstate'] as const) {
    router.post(`/publishers/:id/${action}`, async (req, res) => {
      const key = idempotencyKey(req, false);
      await respondOnce(ctx, req, res, key, async (sql) => {
        const publisher = await setPublisherSuspended(sql, req.params.id, action === 'suspend');
        return { status: 200, body: publisherResource(publisher) };
      });
    });
  }

  return router;
}

const idParam = z.object({ id: operatorId });

export const adminOperations = operations(
  {
    method: 'post',
    path: '/v1/admin/operators',
    tag: 'Admin',
    summary: 'Register an operator (ISP or carrier)',
    description:
      'Answers its API key, assertion secret and webhook secret, each shown once. ' +
      'Limits default to 30.00 / 60.00 / 150.00 ' +
      'and may not pass 50.00 per purchase or 300.00 a month. `sandbox: true` makes a test operator whose ' +
      '`sandbox_declined_<code>` subscribers are declined with that code.',
    actors: ['admin'],
    body: operatorBody,
    responses: { 201: { description: 'Created', schema: schema.operatorCreated } },
  },
  {
    method: 'patch',
    path: '/v1/admin/operators/:id',
    tag: 'Admin',
    summary: "Change an operator's limits, webhook URL or Kiosque Points programme, in force at once",
    description:
      '`points: {enabled, pointValue?}` runs the programme; `pointValue` is the euro value of a point ("0.01").',
    actors: ['admin'],
    params: idParam,
    body: operatorPatchBody,
    responses: { 200: { description: 'The operator as it now is', schema: schema.operator } },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/admin/publishers',
    tag: 'Admin',
    summary: 'Register a publisher',
    description:
      'Answers its API key and webhook secret, each shown once. `pointsPerEuro` (default 0) is the Kiosque Points ' +
      'its sales award per euro, which it funds at settlement.',
    actors: ['admin'],
    body: publisherBody,
    responses: { 201: { description: 'Created', schema: schema.publisherCreated } },
  },
  ...(['suspend', 'reinstate'] as const).map((action) => ({
    method: 'post' as const,
    path: `/v1/admin/publishers/:id/${action}`,
    tag: 'Admin',
    summary:
      action === 'suspend'
        ? 'Suspend a publisher: it creates nothing, its pending purchases decline'
        : 'Reinstate a suspended publisher',
    actors: ['admin'] as const,
    responses: { 200: { description: 'The publisher', schema: schema.publisher } },
    errors: [404],
  })),
);
