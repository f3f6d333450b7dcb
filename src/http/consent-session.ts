import type { Request, RequestHandler, Response } from 'express';
import { recordConsentPageShown } from '../store/monthly-report.js';
import { AppError, type DeclineCode } from '../domain/errors.js';
import type { Operator, Subscriber } from '../generated/prisma/client.js';
import { subscriberFromAssertion } from './auth.js';
import { countFailedAuthentication, refuseThrottledAuthentication } from './auth-throttle.js';
import { z } from 'zod';
import { CONSENT_PAGE_VERSION, consentPage, messagePage } from './consent-page.js';
import { consentEvidence, declineMessages } from './routes/purchases.js';
import { subscriberLanes } from './keyed-lane.js';
import { inTransaction, type Sql } from '../store/sql.js';
import type { ConsentEvidence } from '../domain/purchases.js';
import { budgetOf } from './routes/me.js';
import type { AppContext } from './context.js';
import { SESSION_COOKIE, SESSION_TTL_S, csrfToken, readSession, signSession, validCsrfToken, type Session } from './session.js';

const consentIdParam = z.string().min(1).max(64);

/** Shown before we know which operator the visitor belongs to. */
const KIOSQUE_BRAND = 'Kiosque';

function html(res: Response, status: number, body: string): void {
  res.status(status).type('html').send(body);
}

/** Consent pages may not be framed (clickjacking), cached, or load anything but their own inline style. */
export const consentPageHeaders: RequestHandler = (_req, res, next) => {
  res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.set('X-Frame-Options', 'DENY');
  res.set('Cache-Control', 'no-store');
  next();
};

/**
 * Who is looking at a consent page: an assertion brought once (query or Bearer)
 * becomes a session cookie; afterwards the cookie alone identifies them.
 */
async function pageSubscriber(
  ctx: AppContext,
  req: Request,
  res: Response,
): Promise<{ subscriber: Subscriber; session: Session } | 'redirected' | null> {
  const fromQuery = typeof req.query.assertion === 'string' ? req.query.assertion : null;
  const header = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? null;
  const assertion = fromQuery ?? header;
  if (assertion) {
    await refuseThrottledAuthentication(ctx, req, res, assertion);
    const found = await subscriberFromAssertion(ctx, assertion);
    if (!found) {
      await countFailedAuthentication(ctx, req, assertion);
      return null;
    }
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

/**
 * The subscriber behind a consent form post: a session cookie and the CSRF
 * token of this very consent, or a 403 page and null.
 */
async function formSubscriber(
  ctx: AppContext,
  req: Request,
  res: Response,
  consentId: string,
  reloadHint: string,
): Promise<{ subscriber: Subscriber & { operator: Operator }; session: Session } | null> {
  const cookie = req.cookies?.[SESSION_COOKIE];
  const session = typeof cookie === 'string' ? readSession(cookie, ctx.config.sessionSecret) : null;
  if (!session || !validCsrfToken(req.body?.csrf, session, consentId, ctx.config.sessionSecret)) {
    html(res, 403, messagePage(KIOSQUE_BRAND, 'Confirmation refused', reloadHint));
    return null;
  }
  const subscriber = await ctx.db.subscriber.findUnique({ where: { id: session.subscriberId }, include: { operator: true } });
  if (!subscriber) {
    html(res, 403, messagePage(KIOSQUE_BRAND, 'Confirmation refused', 'Unknown subscriber.'));
    return null;
  }
  return { subscriber, session };
}

/** The page for a confirmation that failed as expired or unknown; false for errors the caller must rethrow. */
function renderedConsentFailure(res: Response, brand: string, what: string, error: unknown): boolean {
  if (!(error instanceof AppError)) return false;
  if (error.code === 'consent_expired') {
    html(res, 410, messagePage(brand, 'This offer has expired', 'Go back to the publisher to start again.'));
    return true;
  }
  if (error.code === 'not_found') {
    html(res, 404, messagePage(brand, `${what} not found`, `This ${what.toLowerCase()} does not exist or is not yours.`));
    return true;
  }
  return false;
}

/** What a consent page shows, whether the offer is a purchase or a subscription. */
export interface ConsentOffer {
  id: string;
  /** As the API reports it: pending, expired, confirmed, active… */
  status: string;
  subscriberId: string | null;
  description: string;
  amount: { toFixed(digits: number): string };
  returnUrl: string | null;
  publisherName: string;
  /** e.g. "per month"; empty for a one-off purchase. */
  cadence: string;
}

/**
 * Click one: the page for one offer, to whoever holds the link with a valid
 * assertion or session. Someone else's offer is not found; a settled one says so.
 */
export async function showConsentPage(
  ctx: AppContext,
  req: Request,
  res: Response,
  what: 'Purchase' | 'Subscription',
  find: (id: string) => Promise<ConsentOffer | null>,
): Promise<void> {
  const who = await pageSubscriber(ctx, req, res);
  if (who === 'redirected') return;
  if (!who) {
    return html(res, 401, messagePage(KIOSQUE_BRAND, 'Sign in through your operator', `Open this page from your operator portal to confirm the ${what.toLowerCase()}.`));
  }
  const id = consentIdParam.safeParse(req.params.id);
  const offer = id.success ? await find(id.data) : null;
  const operator = await ctx.db.operator.findUniqueOrThrow({ where: { id: who.subscriber.operatorId } });
  if (!offer || (offer.subscriberId !== null && offer.subscriberId !== who.subscriber.id)) {
    return html(res, 404, messagePage(operator.brand, `${what} not found`, `This ${what.toLowerCase()} does not exist or is not yours.`));
  }
  if (offer.status === 'expired') return html(res, 410, messagePage(operator.brand, 'This offer has expired', 'Go back to the publisher to start again.'));
  if (offer.status !== 'pending') {
    const back = offer.returnUrl ? { href: offer.returnUrl, label: `Back to ${offer.publisherName}` } : undefined;
    return html(res, 200, messagePage(operator.brand, `${what} ${offer.status}`, offer.description, back));
  }
  const budget = await budgetOf(ctx.db, who.subscriber);
  await recordConsentPageShown(ctx.db, who.subscriber.operatorId, offer.id);
  html(
    res,
    200,
    consentPage({
      operatorBrand: operator.brand,
      publisherName: offer.publisherName,
      description: offer.description,
      price: offer.amount.toFixed(2),
      cadence: offer.cadence,
      weeklyRemaining: budget.weekly.remaining,
      monthlyRemaining: budget.monthly.remaining,
      confirmAction: `${req.baseUrl}${req.path}/confirm`,
      csrfToken: csrfToken(who.session, offer.id, ctx.config.sessionSecret),
    }),
  );
}

/** How a confirmation on a consent page ended, in the words the result page needs. */
export interface PageConfirmation {
  declineCode: DeclineCode | null;
  returnUrl: string | null;
  /** The sentence of the thank-you page. */
  thanks: string;
}

/**
 * Click two on a consent page: the form's session and CSRF token, the
 * subscriber's lane, one transaction, then a result page for each outcome.
 */
export async function confirmOnConsentPage(
  ctx: AppContext,
  req: Request,
  res: Response,
  what: 'Purchase' | 'Subscription',
  confirm: (sql: Sql, subscriber: Subscriber, evidence: ConsentEvidence) => Promise<PageConfirmation>,
): Promise<void> {
  const id = String(req.params.id);
  const form = await formSubscriber(ctx, req, res, id, `Reload the ${what.toLowerCase()} page from the publisher and try again.`);
  if (!form) return;
  const { subscriber, session } = form;
  const brand = subscriber.operator.brand;
  try {
    const result = await subscriberLanes.run(subscriber.id, () =>
      inTransaction(ctx.pool, (sql) => confirm(sql, subscriber, consentEvidence(req, session.assertionId, CONSENT_PAGE_VERSION))),
    );
    const back = result.returnUrl ? { href: result.returnUrl, label: 'Back to the publisher' } : undefined;
    if (result.declineCode) return html(res, 402, messagePage(brand, `${what} declined`, declineMessages[result.declineCode], back));
    html(res, 200, messagePage(brand, 'Thank you', result.thanks, back));
  } catch (error) {
    if (!renderedConsentFailure(res, brand, what, error)) throw error;
  }
}
