import { Router } from 'express';
import { purchaseStatus } from '../../domain/offer-status.js';
import { confirmSubscription } from '../../domain/subscriptions.js';
import { subscriptionOnOffer } from '../../domain/consent-offers.js';
import type { AppContext } from '../context.js';
import { confirmOnConsentPage, showConsentPage, type ConsentOffer } from '../consent-session.js';
import { pageHeaders } from '../pages/render.js';

/**
 * The subscription consent page, /consent/subscriptions/:id: the same session,
 * CSRF and anti-framing protections as the purchase page.
 */
export function subscriptionConsentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl } = ctx.config;

  router.use('/subscriptions', pageHeaders);

  const find = async (id: string): Promise<ConsentOffer | null> => {
    const offer = await subscriptionOnOffer(ctx.database.sql, id);
    if (!offer) return null;
    const { subscription, seller } = offer;
    return { ...subscription, status: purchaseStatus(subscription), publisher: seller, plan: subscription.plan };
  };

  router.get('/subscriptions/:id', (req, res) => showConsentPage(ctx, req, res, 'subscription', find));

  router.post('/subscriptions/:id/confirm', (req, res) =>
    confirmOnConsentPage(ctx, req, res, 'subscription', find, async (sql, subscriber, evidence, { m, f }) => {
      const result = await confirmSubscription(sql, String(req.params.id), subscriber, evidence, publicUrl);
      const { subscription } = result;
      const renewsOn = subscription.currentPeriodEnd;
      return {
        id: subscription.id,
        declineCode: result.outcome === 'declined' ? result.code : null,
        returnUrl: subscription.returnUrl,
        thanks: (seller) => [
          m.subscribedSentence(
            subscription.description,
            seller,
            f.money(subscription.amount.toFixed(2)),
            m.period[subscription.plan],
          ),
          ...(renewsOn ? [m.thanksRenewal(f.date(renewsOn))] : []),
          m.thanksHowToCancel,
          m.reference(subscription.id),
        ],
        subscription: true,
      };
    }),
  );

  return router;
}
