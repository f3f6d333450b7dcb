import { Router } from 'express';
import { CADENCE, type Plan } from '../../domain/plan-periods.js';
import { purchaseStatus } from '../../domain/resources.js';
import { confirmSubscription } from '../../domain/subscriptions.js';
import type { AppContext } from '../context.js';
import { confirmOnConsentPage, consentPageHeaders, showConsentPage } from '../consent-session.js';

/**
 * The subscription consent page, /consent/subscriptions/:id: the same session,
 * CSRF and anti-framing protections as the purchase page.
 */
export function subscriptionConsentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl } = ctx.config;

  router.use('/subscriptions', consentPageHeaders);

  router.get('/subscriptions/:id', (req, res) =>
    showConsentPage(ctx, req, res, 'Subscription', async (id) => {
      const subscription = await ctx.db.subscription.findUnique({ where: { id }, include: { publisher: true } });
      if (!subscription) return null;
      return {
        ...subscription,
        status: purchaseStatus(subscription),
        publisherName: subscription.publisher.name,
        cadence: CADENCE[subscription.plan as Plan],
      };
    }),
  );

  router.post('/subscriptions/:id/confirm', (req, res) =>
    confirmOnConsentPage(ctx, req, res, 'Subscription', async (sql, subscriber, evidence) => {
      const result = await confirmSubscription(sql, String(req.params.id), subscriber, evidence, publicUrl);
      const { subscription } = result;
      return {
        declineCode: result.outcome === 'declined' ? result.code : null,
        returnUrl: subscription.returnUrl,
        thanks: `Subscribed to ${subscription.description} for ${subscription.amount.toFixed(2)} € ${CADENCE[subscription.plan as Plan]}.`,
      };
    }),
  );

  return router;
}
