import { Router } from 'express';
import { z } from 'zod';
import { previousSecretExpiry, rotateWebhookSecret } from '../../domain/publisher-profile.js';
import type { Publisher } from '../../generated/prisma/client.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import { body, httpsUrl, parse } from '../validation.js';
import { assertWebhookUrl, publisherResource } from './admin.js';

/** null clears a field. */
export const publisherPatchBody = body({
  webhookUrl: z.string().max(2048).nullable().optional(),
  legalName: z.string().trim().min(1).max(200).nullable().optional(),
  supportUrl: httpsUrl.nullable().optional(),
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
      },
    });
    res.json(profileResource(updated));
  });

  router.post('/webhook-secret', async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (tx) => {
      const rotated = await rotateWebhookSecret(tx, publisher.id);
      return { status: 200, body: { webhookSecret: rotated.webhookSecret, previousWebhookSecretExpiresAt: previousSecretExpiry(rotated) } };
    });
  });

  return router;
}
