import { Router } from 'express';
import { z } from 'zod';
import { changePublisherProfile, previousSecretExpiry, rotateWebhookSecret } from '../../domain/publisher-profile.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { operations } from '../openapi/operation.js';
import * as schema from '../openapi/schemas.js';
import { body, httpsUrl, parse, pointsPerEuro } from '../validation.js';
import { publisherResource, type PublisherView } from '../presenters/publishers.js';
import { assertWebhookUrl } from './admin.js';

/** null clears a field. */
export const publisherPatchBody = body({
  webhookUrl: z.string().max(2048).nullable().optional(),
  legalName: z.string().trim().min(1).max(200).nullable().optional(),
  supportUrl: httpsUrl.nullable().optional(),
  pointsPerEuro: pointsPerEuro.optional(),
});

export function profileResource(publisher: PublisherView & Parameters<typeof previousSecretExpiry>[0]) {
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
    res.json(profileResource(await changePublisherProfile(ctx.database, publisher.id, input)));
  });

  router.post('/webhook-secret', async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (sql) => {
      const rotated = await rotateWebhookSecret(sql, publisher.id);
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
