import { Router } from 'express';
import { z } from 'zod';
import { confirmPurchase } from '../../domain/purchases.js';
import { purchaseStatus } from '../../domain/resources.js';
import { subscriberLanes } from '../../store/keyed-lane.js';
import { consentPage, messagePage, CONSENT_PAGE_VERSION } from '../consent-page.js';
import type { AppContext } from '../context.js';
import { TRANSACTION_OPTIONS } from '../idempotency.js';
import { budgetOf } from './me.js';
import { consentEvidence, declineMessages } from './purchases.js';
import { consentPageHeaders, formSubscriber, html, KIOSQUE_BRAND, pageSubscriber, renderedConsentFailure } from '../consent-session.js';
import { csrfToken } from '../session.js';

const purchaseIdParam = z.string().min(1).max(64);

export function consentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl, sessionSecret } = ctx.config;

  router.use('/purchases', consentPageHeaders);

  router.get('/purchases/:id', async (req, res) => {
    const who = await pageSubscriber(ctx, req, res);
    if (who === 'redirected') return;
    if (!who) return html(res, 401, messagePage(KIOSQUE_BRAND, 'Sign in through your operator', 'Open this page from your operator portal to confirm the purchase.'));
    const id = purchaseIdParam.safeParse(req.params.id);
    const purchase = id.success
      ? await ctx.db.purchase.findUnique({ where: { id: id.data }, include: { publisher: true } })
      : null;
    const operator = await ctx.db.operator.findUniqueOrThrow({ where: { id: who.subscriber.operatorId } });
    if (!purchase || purchase.subscriptionId || (purchase.subscriberId !== null && purchase.subscriberId !== who.subscriber.id)) {
      return html(res, 404, messagePage(operator.brand, 'Purchase not found', 'This purchase does not exist or is not yours.'));
    }
    const status = purchaseStatus(purchase);
    if (status === 'expired') return html(res, 410, messagePage(operator.brand, 'This offer has expired', 'Go back to the publisher to start again.'));
    if (status !== 'pending') {
      return html(res, 200, messagePage(operator.brand, `Purchase ${status}`, purchase.description, purchase.returnUrl ? { href: purchase.returnUrl, label: `Back to ${purchase.publisher.name}` } : undefined));
    }
    const budget = await budgetOf(ctx.db, who.subscriber);
    html(
      res,
      200,
      consentPage({
        operatorBrand: operator.brand,
        publisherName: purchase.publisher.name,
        description: purchase.description,
        price: purchase.amount.toFixed(2),
        cadence: '',
        weeklyRemaining: budget.weekly.remaining,
        monthlyRemaining: budget.monthly.remaining,
        confirmAction: `/consent/purchases/${purchase.id}/confirm`,
        csrfToken: csrfToken(who.session, purchase.id, sessionSecret),
      }),
    );
  });

  router.post('/purchases/:id/confirm', async (req, res) => {
    const id = String(req.params.id);
    const form = await formSubscriber(ctx, req, res, id, 'Reload the purchase page from the publisher and try again.');
    if (!form) return;
    const { subscriber, session } = form;
    const brand = subscriber.operator.brand;
    try {
      const result = await subscriberLanes.run(subscriber.id, () =>
        ctx.db.$transaction(
          (tx) => confirmPurchase(tx, id, subscriber, consentEvidence(req, session.assertionId, CONSENT_PAGE_VERSION), publicUrl),
          TRANSACTION_OPTIONS,
        ),
      );
      const back = result.purchase.returnUrl ? { href: result.purchase.returnUrl, label: 'Back to the publisher' } : undefined;
      if (result.outcome === 'declined') return html(res, 402, messagePage(brand, 'Purchase declined', declineMessages[result.code], back));
      html(res, 200, messagePage(brand, 'Thank you', `Paid ${result.purchase.amount.toFixed(2)} € for ${result.purchase.description}.`, back));
    } catch (error) {
      if (!renderedConsentFailure(res, brand, 'Purchase', error)) throw error;
    }
  });

  return router;
}
