import { Router } from 'express';
import { CADENCE, type Plan } from '../../domain/plan-periods.js';
import { purchaseStatus } from '../../domain/resources.js';
import { confirmSubscription } from '../../domain/subscriptions.js';
import { messagePage, CONSENT_PAGE_VERSION } from '../consent-page.js';
import type { AppContext } from '../context.js';
import { TRANSACTION_OPTIONS } from '../idempotency.js';
import { subscriberLanes } from '../../store/keyed-lane.js';
import { consentPageHeaders, formSubscriber, html, renderedConsentFailure, showConsentPage } from '../consent-session.js';
import { consentEvidence, declineMessages } from './purchases.js';

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

  router.post('/subscriptions/:id/confirm', async (req, res) => {
    const id = String(req.params.id);
    const form = await formSubscriber(ctx, req, res, id, 'Reload the subscription page from the publisher and try again.');
    if (!form) return;
    const { subscriber, session } = form;
    const brand = subscriber.operator.brand;
    try {
      const result = await subscriberLanes.run(subscriber.id, () =>
        ctx.db.$transaction(
          (tx) => confirmSubscription(tx, id, subscriber, consentEvidence(req, session.assertionId, CONSENT_PAGE_VERSION), publicUrl),
          TRANSACTION_OPTIONS,
        ),
      );
      const { subscription } = result;
      const back = subscription.returnUrl ? { href: subscription.returnUrl, label: 'Back to the publisher' } : undefined;
      if (result.outcome === 'declined') return html(res, 402, messagePage(brand, 'Subscription declined', declineMessages[result.code], back));
      const cadence = CADENCE[subscription.plan as Plan];
      html(res, 200, messagePage(brand, 'Thank you', `Subscribed to ${subscription.description} for ${subscription.amount.toFixed(2)} € ${cadence}.`, back));
    } catch (error) {
      if (!renderedConsentFailure(res, brand, 'Subscription', error)) throw error;
    }
  });

  return router;
}
