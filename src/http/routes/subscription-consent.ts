import { Router } from 'express';
import { z } from 'zod';
import { CADENCE, type Plan } from '../../domain/plan-periods.js';
import { purchaseStatus } from '../../domain/resources.js';
import { confirmSubscription } from '../../domain/subscriptions.js';
import { consentPage, messagePage, CONSENT_PAGE_VERSION } from '../consent-page.js';
import type { AppContext } from '../context.js';
import { TRANSACTION_OPTIONS } from '../idempotency.js';
import { subscriberLanes } from '../../store/keyed-lane.js';
import { consentPageHeaders, formSubscriber, html, KIOSQUE_BRAND, pageSubscriber, renderedConsentFailure } from '../consent-session.js';
import { csrfToken } from '../session.js';
import { budgetOf } from './me.js';
import { consentEvidence, declineMessages } from './purchases.js';

const subscriptionIdParam = z.string().min(1).max(64);

/**
 * The subscription consent page, /consent/subscriptions/:id: the same session,
 * CSRF and anti-framing protections as the purchase page.
 */
export function subscriptionConsentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl, sessionSecret } = ctx.config;

  router.use('/subscriptions', consentPageHeaders);

  router.get('/subscriptions/:id', async (req, res) => {
    const who = await pageSubscriber(ctx, req, res);
    if (who === 'redirected') return;
    if (!who) return html(res, 401, messagePage(KIOSQUE_BRAND, 'Sign in through your operator', 'Open this page from your operator portal to confirm the subscription.'));
    const id = subscriptionIdParam.safeParse(req.params.id);
    const subscription = id.success
      ? await ctx.db.subscription.findUnique({ where: { id: id.data }, include: { publisher: true } })
      : null;
    const operator = await ctx.db.operator.findUniqueOrThrow({ where: { id: who.subscriber.operatorId } });
    if (!subscription || (subscription.subscriberId !== null && subscription.subscriberId !== who.subscriber.id)) {
      return html(res, 404, messagePage(operator.brand, 'Subscription not found', 'This subscription does not exist or is not yours.'));
    }
    const status = purchaseStatus(subscription);
    if (status === 'expired') return html(res, 410, messagePage(operator.brand, 'This offer has expired', 'Go back to the publisher to start again.'));
    if (status !== 'pending') {
      const back = subscription.returnUrl ? { href: subscription.returnUrl, label: `Back to ${subscription.publisher.name}` } : undefined;
      return html(res, 200, messagePage(operator.brand, `Subscription ${status}`, subscription.description, back));
    }
    const budget = await budgetOf(ctx.db, who.subscriber);
    html(
      res,
      200,
      consentPage({
        operatorBrand: operator.brand,
        publisherName: subscription.publisher.name,
        description: subscription.description,
        price: subscription.amount.toFixed(2),
        cadence: CADENCE[subscription.plan as Plan],
        weeklyRemaining: budget.weekly.remaining,
        monthlyRemaining: budget.monthly.remaining,
        confirmAction: `/consent/subscriptions/${subscription.id}/confirm`,
        csrfToken: csrfToken(who.session, subscription.id, sessionSecret),
      }),
    );
  });

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
