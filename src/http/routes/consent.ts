import { Router } from 'express';
import { confirmPurchase } from '../../domain/purchases.js';
import { purchaseStatus } from '../../domain/resources.js';
import type { AppContext } from '../context.js';
import { confirmOnConsentPage, consentPageHeaders, showConsentPage } from '../consent-session.js';

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

  router.post('/purchases/:id/confirm', (req, res) =>
    confirmOnConsentPage(ctx, req, res, 'Purchase', async (sql, subscriber, evidence) => {
      const result = await confirmPurchase(sql, String(req.params.id), subscriber, evidence, publicUrl);
      const { purchase } = result;
      return {
        declineCode: result.outcome === 'declined' ? result.code : null,
        returnUrl: purchase.returnUrl,
        thanks: `Paid ${purchase.amount.toFixed(2)} € for ${purchase.description}.`,
      };
    }),
  );

  return router;
}
