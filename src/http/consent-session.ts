import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../domain/errors.js';
import type { Operator, Subscriber } from '../generated/prisma/client.js';
import { subscriberFromAssertion } from './auth.js';
import { messagePage } from './consent-page.js';
import type { AppContext } from './context.js';
import { SESSION_COOKIE, SESSION_TTL_S, readSession, signSession, validCsrfToken, type Session } from './session.js';

/** Shown before we know which operator the visitor belongs to. */
export const KIOSQUE_BRAND = 'Kiosque';

export function html(res: Response, status: number, body: string): void {
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
export async function pageSubscriber(
  ctx: AppContext,
  req: Request,
  res: Response,
): Promise<{ subscriber: Subscriber; session: Session } | 'redirected' | null> {
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

/**
 * The subscriber behind a consent form post: a session cookie and the CSRF
 * token of this very consent, or a 403 page and null.
 */
export async function formSubscriber(
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
export function renderedConsentFailure(res: Response, brand: string, what: string, error: unknown): boolean {
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
