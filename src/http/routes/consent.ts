import { Router } from 'express';
import { confirmPurchase } from '../../domain/purchases.js';
import { purchaseStatus } from '../../domain/resources.js';
import type { AppContext } from '../context.js';
import { confirmOnConsentPage, showConsentPage } from '../consent-session.js';
import { pageHeaders } from '../pages/render.js';

export function consentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl } = ctx.config;

  router.use('/purchases', pageHeaders);

  router.get('/purchases/:id', (req, res) =>
    showConsentPage(ctx, req, res, 'purchase', async (id) => {
      const purchase = await ctx.db.purchase.findUnique({ where: { id }, include: { publisher: true } });
      if (!purchase || purchase.subscriptionId) return null;
      return { ...purchase, status: purchaseStatus(purchase), plan: null };
    }),
  );

  router.post('/purchases/:id/confirm', (req, res) =>
    confirmOnConsentPage(ctx, req, res, 'purchase', async (sql, subscriber, evidence, { m, f }) => {
      const result = await confirmPurchase(sql, String(req.params.id), subscriber, evidence, publicUrl);
      const { purchase } = result;
      return {
        id: purchase.id,
        declineCode: result.outcome === 'declined' ? result.code : null,
        returnUrl: purchase.returnUrl,
        thanks: m.paidSentence(f.money(purchase.amount.toFixed(2)), purchase.description),
      };
    }),
  );

  return router;
}
