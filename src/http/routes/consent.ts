import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { confirmPurchase } from '../../domain/purchases.js';
import { purchaseStatus } from '../../domain/resources.js';
import type { Subscriber } from '../../generated/prisma/client.js';
import { subscriberLanes } from '../../store/keyed-lane.js';
import { subscriberFromAssertion } from '../auth.js';
import { consentPage, messagePage, CONSENT_PAGE_VERSION } from '../consent-page.js';
import type { AppContext } from '../context.js';
import { TRANSACTION_OPTIONS } from '../idempotency.js';
import { budgetOf } from './me.js';
import { consentEvidence, declineMessages } from './purchases.js';
import { SESSION_COOKIE, SESSION_TTL_S, csrfToken, readSession, signSession, validCsrfToken, type Session } from '../session.js';

const KIOSQUE_BRAND = 'Kiosque';

function html(res: Response, status: number, body: string): void {
  res.status(status).type('html').send(body);
}

/**
 * Who is looking at a consent page: an assertion brought once (query or Bearer)
 * becomes a session cookie; afterwards the cookie alone identifies them.
 */
export async function pageSubscriber(ctx: AppContext, req: Request, res: Response): Promise<{ subscriber: Subscriber; session: Session } | 'redirected' | null> {
  const fromQuery = typeof req.query.assertion === 'string' ? req.query.assertion : null;
  const header = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? null;
  const assertion = fromQuery ?? header;
  if (assertion) {
    const found = await subscriberFromAssertion(ctx, assertion);
    if (!found) return null;
    const session = { subscriberId: found.subscriber.id, assertionId: found.assertion.assertionId };
    res.cookie(SESSION_COOKIE, signSession(session, ctx.config.sessionSecret), {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.config.production || ctx.config.publicUrl.startsWith('https:'),
      maxAge: SESSION_TTL_S * 1000,
      path: '/',
    });
    if (fromQuery) {
      // Take the token out of the address bar, history and Referer headers.
      const url = new URL(req.originalUrl, 'http://placeholder');
      url.searchParams.delete('assertion');
      res.redirect(303, url.pathname + url.search);
      return 'redirected';
    }
    return { subscriber: found.subscriber, session };
  }
  const cookie = req.cookies?.[SESSION_COOKIE];
  const session = typeof cookie === 'string' ? readSession(cookie, ctx.config.sessionSecret) : null;
  if (!session) return null;
  const subscriber = await ctx.db.subscriber.findUnique({ where: { id: session.subscriberId } });
  return subscriber ? { subscriber, session } : null;
}

const purchaseIdParam = z.string().min(1).max(64);

export function consentRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl, sessionSecret } = ctx.config;

  router.use((_req, res, next) => {
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    res.set('X-Frame-Options', 'DENY');
    res.set('Cache-Control', 'no-store');
    next();
  });

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
    const cookie = req.cookies?.[SESSION_COOKIE];
    const session = typeof cookie === 'string' ? readSession(cookie, sessionSecret) : null;
    const id = String(req.params.id);
    if (!session || !validCsrfToken(req.body?.csrf, session, id, sessionSecret)) {
      return html(res, 403, messagePage(KIOSQUE_BRAND, 'Confirmation refused', 'Reload the purchase page from the publisher and try again.'));
    }
    const subscriber = await ctx.db.subscriber.findUnique({ where: { id: session.subscriberId }, include: { operator: true } });
    if (!subscriber) return html(res, 403, messagePage(KIOSQUE_BRAND, 'Confirmation refused', 'Unknown subscriber.'));
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
      if (error instanceof AppError && error.code === 'consent_expired') return html(res, 410, messagePage(brand, 'This offer has expired', 'Go back to the publisher to start again.'));
      if (error instanceof AppError && error.code === 'not_found') return html(res, 404, messagePage(brand, 'Purchase not found', 'This purchase does not exist or is not yours.'));
      throw error;
    }
  });

  return router;
}
