import { Router } from 'express';
import { z } from 'zod';
import { CHANNELS, DEFAULT_COMMISSION_RATES } from '../../domain/commission.js';
import { newApiKey, hashApiKey, newAssertionSecret, newWebhookSecret } from '../../domain/credentials.js';
import { AppError, notFound } from '../../domain/errors.js';
import { CATEGORIES } from '../../domain/categories.js';
import { Decimal, REGULATORY_MAX_PER_MONTH, REGULATORY_MAX_PER_PURCHASE } from '../../domain/money.js';
import { VAT_RATES, defaultVatRate, vatRateString } from '../../domain/vat.js';
import { webhookUrlProblem } from '../../domain/webhook-url.js';
import { newId } from '../../ids.js';
import type { Operator, Publisher } from '../../generated/prisma/client.js';
import { allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { amountString, body, parse } from '../validation.js';

const positiveAmount = amountString.refine((v) => new Decimal(v).gt(0), 'must be above 0.00');

const operatorBody = body({
  name: z.string().trim().min(1).max(200),
  brand: z.string().trim().min(1).max(100),
  limits: z
    .strictObject({ perPurchase: positiveAmount, weekly: positiveAmount, monthly: positiveAmount })
    .refine((l) => new Decimal(l.perPurchase).lte(REGULATORY_MAX_PER_PURCHASE), { message: 'must be at most 50.00', path: ['perPurchase'] })
    .refine((l) => new Decimal(l.monthly).lte(REGULATORY_MAX_PER_MONTH), { message: 'must be at most 300.00', path: ['monthly'] })
    .refine((l) => new Decimal(l.weekly).lte(REGULATORY_MAX_PER_MONTH), { message: 'must be at most 300.00', path: ['weekly'] })
    .optional(),
});

/** Rates are fractions such as "0.15" (or 0.15); at most four decimals, from 0 to 1. */
const rate = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((v) => /^(0(\.\d{1,4})?|1(\.0{1,4})?)$/.test(v), 'expected a rate from 0 to 1 such as "0.15"');

const publisherBody = body({
  name: z.string().trim().min(1).max(200),
  category: z.enum(CATEGORIES),
  legalName: z.string().trim().min(1).max(200).optional(),
  supportUrl: z.url({ protocol: /^https$/ }).max(2048).optional(),
  webhookUrl: z.string().max(2048).optional(),
  commissionRates: z.strictObject({ isp: rate.optional(), sms: rate.optional(), voice: rate.optional() }).optional(),
  vatRate: z.enum(VAT_RATES).optional(),
});

export function operatorLimitsResource(operator: Operator) {
  return {
    perPurchase: operator.limitPerPurchase.toFixed(2),
    weekly: operator.limitWeekly.toFixed(2),
    monthly: operator.limitMonthly.toFixed(2),
  };
}

function publisherResource(publisher: Publisher) {
  return {
    id: publisher.id,
    name: publisher.name,
    category: publisher.category,
    legalName: publisher.legalName,
    supportUrl: publisher.supportUrl,
    webhookUrl: publisher.webhookUrl,
    commissionRates: { isp: publisher.rateIsp.toString(), sms: publisher.rateSms.toString(), voice: publisher.rateVoice.toString() },
    vatRate: vatRateString(publisher.vatRate.toString()),
    suspended: publisher.suspendedAt !== null,
    createdAt: publisher.createdAt.toISOString(),
  };
}

export function adminRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'admin'));

  router.post('/operators', async (req, res) => {
    const input = parse(operatorBody, req.body);
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (tx) => {
      const apiKey = newApiKey('operator');
      const limits = input.limits ?? { perPurchase: '30.00', weekly: '60.00', monthly: '150.00' };
      const operator = await tx.operator.create({
        data: {
          id: newId('op'),
          name: input.name,
          brand: input.brand,
          apiKeyHash: hashApiKey(apiKey),
          assertionSecret: newAssertionSecret(),
          limitPerPurchase: limits.perPurchase,
          limitWeekly: limits.weekly,
          limitMonthly: limits.monthly,
        },
      });
      return {
        status: 201,
        body: {
          id: operator.id,
          name: operator.name,
          brand: operator.brand,
          apiKey,
          assertionSecret: operator.assertionSecret,
          limits: operatorLimitsResource(operator),
        },
        secretFields: ['apiKey', 'assertionSecret'],
      };
    });
  });

  router.post('/publishers', async (req, res) => {
    const input = parse(publisherBody, req.body);
    if (input.webhookUrl !== undefined) {
      const problem = await webhookUrlProblem(input.webhookUrl, ctx.config.webhookAllowPrivateNetworks);
      if (problem) throw new AppError('invalid_request', `webhookUrl ${problem}`, { fields: { webhookUrl: problem } });
    }
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (tx) => {
      const apiKey = newApiKey('publisher');
      const rates = Object.fromEntries(
        CHANNELS.map((channel) => [channel, input.commissionRates?.[channel] ?? DEFAULT_COMMISSION_RATES[channel].toString()]),
      ) as Record<(typeof CHANNELS)[number], string>;
      const publisher = await tx.publisher.create({
        data: {
          id: newId('pub'),
          name: input.name,
          category: input.category,
          legalName: input.legalName ?? null,
          supportUrl: input.supportUrl ?? null,
          webhookUrl: input.webhookUrl ?? null,
          webhookSecret: newWebhookSecret(),
          apiKeyHash: hashApiKey(apiKey),
          rateIsp: rates.isp,
          rateSms: rates.sms,
          rateVoice: rates.voice,
          vatRate: input.vatRate ?? defaultVatRate(input.category),
        },
      });
      return {
        status: 201,
        body: { ...publisherResource(publisher), apiKey, webhookSecret: publisher.webhookSecret },
        secretFields: ['apiKey', 'webhookSecret'],
      };
    });
  });

  for (const action of ['suspend', 'reinstate'] as const) {
    router.post(`/publishers/:id/${action}`, async (req, res) => {
      const key = idempotencyKey(req, false);
      await respondOnce(ctx, req, res, key, async (tx) => {
        const existing = await tx.publisher.findUnique({ where: { id: req.params.id } });
        if (!existing) throw notFound('Publisher');
        const publisher = await tx.publisher.update({
          where: { id: existing.id },
          data: { suspendedAt: action === 'suspend' ? (existing.suspendedAt ?? new Date()) : null },
        });
        return { status: 200, body: publisherResource(publisher) };
      });
    });
  }

  return router;
}
