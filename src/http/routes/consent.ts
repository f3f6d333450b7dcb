import { Router } from 'express';
import { confirmPurchase } from '../../domain/purchases.js';
import { purchaseStatus } from '../../domain/resources.js';
import { subscriberLanes } from '../../store/keyed-lane.js';
import { messagePage, CONSENT_PAGE_VERSION } from '../consent-page.js';
import type { AppContext } from '../context.js';
import { TRANSACTION_OPTIONS } from '../idempotency.js';
import { consentEvidence, declineMessages } from './purchases.js';
import { consentPageHeaders, formSubscriber, html, renderedConsentFailure, showConsentPage } from '../consent-session.js';

export function consentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl } = ctx.config;

  router.use('/purchases', consentPageHeaders);

  router.get('/purchases/:id', (req, res) =>
    showConsentPage(ctx, req, res, 'Purchase', async (id) => {
      const purchase = await ctx.db.purchase.findUnique({ where: { id }, include: { publisher: true } });
      if (!purchase || purchase.subscriptionId) return null;
      return { ...purchase, status: purchaseStatus(purchase), publisherName: purchase.publisher.name, cadence: '' };
    }),
  );

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
