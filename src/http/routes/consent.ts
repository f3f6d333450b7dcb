import { Router } from 'express';
import { confirmPurchase } from '../../domain/purchases.js';
import { Decimal } from '../../shared/money.js';
import { purchaseStatus } from '../../domain/offer-status.js';
import { purchaseOnOffer } from '../../domain/consent-offers.js';
import type { AppContext } from '../context.js';
import { confirmOnConsentPage, showConsentPage, type ConsentOffer } from '../consent-session.js';
import { pageHeaders } from '../pages/render.js';

/** The points button the subscriber chose on the consent page; anything else is paying in euros only. */
function chosenPoints(body: unknown): number {
  const value = (body as { points?: unknown } | undefined)?.points;
  return typeof value === 'string' && /^\d{1,7}$/.test(value) ? Number(value) : 0;
}

export function consentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl } = ctx.config;

  router.use('/purchases', pageHeaders);

  const find = async (id: string): Promise<ConsentOffer | null> => {
    const offer = await purchaseOnOffer(ctx.database.sql, id);
    if (!offer) return null;
    const { purchase, seller } = offer;
    return { ...purchase, status: purchaseStatus(purchase), publisher: seller, plan: null };
  };

  router.get('/purchases/:id', (req, res) => showConsentPage(ctx, req, res, 'purchase', find));

  router.post('/purchases/:id/confirm', (req, res) =>
    confirmOnConsentPage(ctx, req, res, 'purchase', find, async (sql, subscriber, evidence, { m, f }) => {
      const points = chosenPoints(req.body);
      const result = await confirmPurchase(
        sql,
        String(req.params.id),
        subscriber,
        evidence,
        publicUrl,
        new Date(),
        points,
      );
      const { purchase } = result;
      const euros = f.money(purchase.amount.toFixed(2));
      const value = (purchase.pointValue ?? new Decimal(0)).times(purchase.pointsSpent);
      return {
        id: purchase.id,
        declineCode: result.outcome === 'declined' ? result.code : null,
        returnUrl: purchase.returnUrl,
        thanks: (seller) => [
          purchase.pointsSpent > 0
            ? m.paidWithPointsSentence(
                euros,
                String(purchase.pointsSpent),
                f.money(value),
                seller,
                purchase.description,
              )
            : m.paidSentence(euros, seller, purchase.description),
          ...(purchase.amount.gt(0) ? [m.onNextBill(subscriber.operator.brand)] : []),
          m.reference(purchase.id),
        ],
        subscription: false,
      };
    }),
  );

  return router;
}
