import { Router } from 'express';
import { z } from 'zod';
import { previousSecretExpiry, rotateWebhookSecret } from '../../domain/publisher-profile.js';
import type { Publisher } from '../../generated/prisma/client.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { body, httpsUrl, parse, pointsPerEuro } from '../validation.js';
import { assertWebhookUrl, publisherResource } from './admin.js';

/** null clears a field. */
export const publisherPatchBody = body({
  webhookUrl: z.string().max(2048).nullable().optional(),
  legalName: z.string().trim().min(1).max(200).nullable().optional(),
  supportUrl: httpsUrl.nullable().optional(),
  pointsPerEuro: pointsPerEuro.optional(),
});

export function profileResource(publisher: Publisher) {
  return { ...publisherResource(publisher), previousWebhookSecretExpiresAt: previousSecretExpiry(publisher) };
}

/** /v1/publisher: a publisher's own profile, webhook URL and secret. */
export function publisherRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'publisher'));

  router.get('/', (_req, res) => {
    res.json(profileResource(actorOf(res, 'publisher').publisher));
  });

  router.patch('/', async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const input = parse(publisherPatchBody, req.body ?? {});
    await assertWebhookUrl(ctx, input.webhookUrl);
    const updated = await ctx.db.publisher.update({
      where: { id: publisher.id },
      data: {
        ...(input.webhookUrl !== undefined ? { webhookUrl: input.webhookUrl } : {}),
        ...(input.legalName !== undefined ? { legalName: input.legalName } : {}),
        ...(input.supportUrl !== undefined ? { supportUrl: input.supportUrl } : {}),
        ...(input.pointsPerEuro !== undefined ? { pointsPerEuro: input.pointsPerEuro } : {}),
      },
    });
    res.json(profileResource(updated));
  });

  router.post('/webhook-secret', async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (tx) => {
      const rotated = await rotateWebhookSecret(tx, publisher.id);
      return {
        status: 200,
        body: { webhookSecret: rotated.webhookSecret, previousWebhookSecretExpiresAt: previousSecretExpiry(rotated) },
      };
    });
  });

  return router;
}

export const publisherOperations = operations(
  {
    method: 'get',
    path: '/v1/publisher',
    tag: 'Publisher',
    summary: "The publisher's own profile",
    actors: ['publisher'],
    responses: { 200: { description: 'The profile', schema: schema.publisherProfile } },
  },
  {
    method: 'patch',
    path: '/v1/publisher',
    tag: 'Publisher',
    summary:
      'Change the webhook URL (checked as at registration), legal name, support URL or Kiosque Points per euro; null clears',
    actors: ['publisher'],
    body: publisherPatchBody,
    responses: { 200: { description: 'The profile', schema: schema.publisherProfile } },
  },
  {
    method: 'post',
    path: '/v1/publisher/webhook-secret',
    tag: 'Publisher',
    summary: 'Rotate the webhook secret; the old one keeps signing alongside for 24 hours',
    actors: ['publisher'],
    responses: { 200: { description: 'The new secret, shown once', schema: schema.secretRotated } },
  },
);
