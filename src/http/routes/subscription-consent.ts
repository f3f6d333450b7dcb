import { Router, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { CADENCE, type Plan } from '../../domain/plan-periods.js';
import { purchaseStatus } from '../../domain/resources.js';
import { confirmSubscription } from '../../domain/subscriptions.js';
import { consentPage, messagePage, CONSENT_PAGE_VERSION } from '../consent-page.js';
import type { AppContext } from '../context.js';
import { TRANSACTION_OPTIONS } from '../idempotency.js';
import { SESSION_COOKIE, csrfToken, readSession, validCsrfToken } from '../session.js';
import { pageSubscriber } from './consent.js';
import { budgetOf } from './me.js';
import { consentEvidence, declineMessages } from './purchases.js';

const KIOSQUE_BRAND = 'Kiosque';

const subscriptionIdParam = z.string().min(1).max(64);

function html(res: Response, status: number, body: string): void {
  res.status(status).type('html').send(body);
}

/**
 * The subscription consent page, /consent/subscriptions/:id: the same session,
 * CSRF and anti-framing protections as the purchase page.
 */
export function subscriptionConsentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl, sessionSecret } = ctx.config;

  router.use('/subscriptions', (_req, res, next) => {
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    res.set('X-Frame-Options', 'DENY');
    res.set('Cache-Control', 'no-store');
    next();
  });

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
    const cookie = req.cookies?.[SESSION_COOKIE];
    const session = typeof cookie === 'string' ? readSession(cookie, sessionSecret) : null;
    const id = String(req.params.id);
    if (!session || !validCsrfToken(req.body?.csrf, session, id, sessionSecret)) {
      return html(res, 403, messagePage(KIOSQUE_BRAND, 'Confirmation refused', 'Reload the subscription page from the publisher and try again.'));
    }
    const subscriber = await ctx.db.subscriber.findUnique({ where: { id: session.subscriberId }, include: { operator: true } });
    if (!subscriber) return html(res, 403, messagePage(KIOSQUE_BRAND, 'Confirmation refused', 'Unknown subscriber.'));
    const brand = subscriber.operator.brand;
    try {
      const result = await ctx.db.$transaction(
        (tx) => confirmSubscription(tx, id, subscriber, consentEvidence(req, session.assertionId, CONSENT_PAGE_VERSION), publicUrl),
        TRANSACTION_OPTIONS,
      );
      const { subscription } = result;
      const back = subscription.returnUrl ? { href: subscription.returnUrl, label: 'Back to the publisher' } : undefined;
      if (result.outcome === 'declined') return html(res, 402, messagePage(brand, 'Subscription declined', declineMessages[result.code], back));
      const cadence = CADENCE[subscription.plan as Plan];
      html(res, 200, messagePage(brand, 'Thank you', `Subscribed to ${subscription.description} for ${subscription.amount.toFixed(2)} € ${cadence}.`, back));
    } catch (error) {
      if (error instanceof AppError && error.code === 'consent_expired') return html(res, 410, messagePage(brand, 'This offer has expired', 'Go back to the publisher to start again.'));
      if (error instanceof AppError && error.code === 'not_found') return html(res, 404, messagePage(brand, 'Subscription not found', 'This subscription does not exist or is not yours.'));
      throw error;
    }
  });

  return router;
}
