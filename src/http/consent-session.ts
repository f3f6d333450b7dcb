import type { Request, Response } from 'express';
import { z } from 'zod';
import { forecastCharge } from '../domain/charge-forecast.js';
import { AppError, type DeclineCode } from '../domain/errors.js';
import type { Decimal } from '../shared/money.js';
import { nextPeriodEnd } from '../domain/plan-periods.js';
import type { Plan } from '../shared/catalogue.js';
import { pointsOffer } from '../domain/household-points.js';
import { countConsentPageShown } from '../domain/monthly-report.js';
import type { Sql } from '../store/sql.js';
import { countFailedAuthentication, refuseThrottledAuthentication } from './auth-throttle.js';
import { inSubscriberLane } from './keyed-lane.js';
import type { ConsentEvidence } from '../domain/purchases.js';
import { sessionSubscriber } from '../domain/subscribers.js';
import type { SubscriberWithOperator } from '../store/subscribers.js';
import { subscriberFromAssertion } from './auth.js';
import { CONSENT_PAGE_VERSION, consentPage } from './consent-page.js';
import type { AppContext } from './context.js';
import { messagePage } from './pages/layout.js';
import type { Messages } from './pages/messages/fr.js';
import { pageKit, sendHtml, setPageCsp, type PageKit } from './pages/render.js';
import { subscriberBudget } from '../domain/spending.js';
import { consentEvidence } from './routes/purchases.js';
import {
  SESSION_COOKIE,
  SESSION_TTL_S,
  csrfToken,
  readSession,
  signSession,
  validCsrfToken,
  type Session,
} from './session.js';

const consentIdParam = z.string().min(1).max(64);

/** The subscriber space, where every consent page and result page points. */
export const ME_PATH = '/me';

/**
 * Who is looking at a page: an assertion brought once (query or Bearer)
 * becomes a session cookie; afterwards the cookie alone identifies them.
 */
export async function pageSubscriber(
  ctx: AppContext,
  req: Request,
  res: Response,
): Promise<{ subscriber: SubscriberWithOperator; session: Session } | 'redirected' | null> {
  const fromQuery = typeof req.query.assertion === 'string' ? req.query.assertion : null;
  const header = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? null;
  const assertion = fromQuery ?? header;
  let session: Session | null;
  if (assertion) {
    const found = await subscriberFromAssertion(ctx, assertion);
    if (!found) {
      await refuseThrottledAuthentication(ctx, req, res, assertion);
      await countFailedAuthentication(ctx, req, assertion);
      return null;
    }
    session = { subscriberId: found.subscriber.id, assertionId: found.assertion.assertionId };
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
  } else {
    const cookie: unknown = req.cookies?.[SESSION_COOKIE];
    session = typeof cookie === 'string' ? readSession(cookie, ctx.config.sessionSecret) : null;
  }
  if (!session) return null;
  const subscriber = await sessionSubscriber(ctx.database.sql, session.subscriberId);
  return subscriber ? { subscriber, session } : null;
}

/** The page for a visitor with no valid assertion or session. */
export function signInPage(kit: PageKit, res: Response): void {
  sendHtml(
    res,
    401,
    messagePage(kit.shell(kit.m.signInTitle, null), { title: kit.m.signInTitle, paragraphs: [kit.m.signInText] }),
  );
}

/**
 * The subscriber behind a form post: the session cookie and the CSRF token of
 * this very form's scope (one consent, or the subscriber space), or a 403 page and null.
 */
export async function formSubscriber(
  ctx: AppContext,
  req: Request,
  res: Response,
  kit: PageKit,
  scope: string,
): Promise<{ subscriber: SubscriberWithOperator; session: Session } | null> {
  const cookie: unknown = req.cookies?.[SESSION_COOKIE];
  const session = typeof cookie === 'string' ? readSession(cookie, ctx.config.sessionSecret) : null;
  const subscriber =
    session &&
    validCsrfToken((req.body as { csrf?: unknown } | undefined)?.csrf, session, scope, ctx.config.sessionSecret)
      ? await sessionSubscriber(ctx.database.sql, session.subscriberId)
      : null;
  if (!session || !subscriber) {
    sendHtml(
      res,
      403,
      messagePage(kit.shell(kit.m.refusedTitle, null), {
        title: kit.m.refusedTitle,
        paragraphs: [kit.m.reloadHint],
        alert: true,
      }),
    );
    return null;
  }
  return { subscriber, session };
}

export type OfferKind = 'purchase' | 'subscription';

/** The publisher's way back, on a page about one of its offers, when it gave one. */
function backToPublisher(m: Messages, offer: Pick<ConsentOffer, 'returnUrl' | 'publisher'> | null) {
  return offer?.returnUrl ? [{ href: offer.returnUrl, label: m.backTo(offer.publisher.name), primary: true }] : [];
}

/**
 * The page for a confirmation that failed as expired or unknown; false for
 * errors the caller must rethrow. An expired offer leads back to its publisher
 * (`offer`, when known) and to the subscriber space.
 */
function renderedConsentFailure(
  kit: PageKit,
  res: Response,
  brand: string,
  kind: OfferKind,
  error: unknown,
  offer: Pick<ConsentOffer, 'returnUrl' | 'publisher'> | null = null,
): boolean {
  if (!(error instanceof AppError)) return false;
  const { m } = kit;
  if (error.code === 'consent_expired') {
    sendHtml(
      res,
      410,
      messagePage(kit.shell(m.expiredTitle, brand), {
        title: m.expiredTitle,
        paragraphs: [m.expiredText, m.nothingCharged],
        links: [...backToPublisher(m, offer), { href: ME_PATH, label: m.meLink }],
      }),
    );
    return true;
  }
  if (kind === 'purchase' && ['invalid_state', 'forbidden', 'invalid_request'].includes(error.code)) {
    // Only points can refuse a pending offer this way: too many for the household, or a child not allowed them.
    sendHtml(
      res,
      error.code === 'forbidden' ? 403 : error.code === 'invalid_request' ? 400 : 409,
      messagePage(kit.shell(m.pointsRefusedTitle, brand), {
        title: m.pointsRefusedTitle,
        paragraphs: [m.pointsRefusedText],
        links: [{ href: ME_PATH, label: m.meLink }],
        alert: true,
      }),
    );
    return true;
  }
  if (error.code === 'not_found') {
    const title = kind === 'purchase' ? m.purchaseNotFoundTitle : m.subscriptionNotFoundTitle;
    const text = kind === 'purchase' ? m.purchaseNotFoundText : m.subscriptionNotFoundText;
    sendHtml(
      res,
      404,
      messagePage(kit.shell(title, brand), { title, paragraphs: [text], links: [{ href: ME_PATH, label: m.meLink }] }),
    );
    return true;
  }
  return false;
}

/** The declines that depend on the amount, which paying part with points may avoid. */
const LIMIT_CODES: readonly string[] = ['per_purchase_limit', 'weekly_ceiling', 'monthly_ceiling'];

/** What a consent page shows, whether the offer is a purchase or a subscription. */
export interface ConsentOffer {
  id: string;
  /** As the API reports it: pending, expired, confirmed, active… */
  status: string;
  subscriberId: string | null;
  description: string;
  amount: Decimal;
  returnUrl: string | null;
  publisher: {
    name: string;
    legalName: string | null;
    supportUrl: string | null;
    category: string;
    suspendedAt: Date | null;
  };
  /** A subscription's plan; null for a one-off purchase. */
  plan: Plan | null;
}

/** The publisher's return address with the outcome added, as docs/purchases.md promises it. */
export function returnUrlWith(
  returnUrl: string,
  kind: OfferKind,
  id: string,
  status: 'confirmed' | 'declined',
): string {
  const url = new URL(returnUrl);
  url.searchParams.set(kind === 'purchase' ? 'kiosque_purchase' : 'kiosque_subscription', id);
  url.searchParams.set('kiosque_status', status);
  return url.toString();
}

/**
 * Click one: the page for one offer, to whoever holds the link with a valid
 * assertion or session. Someone else's offer is not found; a settled one says
 * so; one that would certainly be declined says why and offers no pay button.
 */
export async function showConsentPage(
  ctx: AppContext,
  req: Request,
  res: Response,
  kind: OfferKind,
  find: (id: string) => Promise<ConsentOffer | null>,
): Promise<void> {
  const kit = pageKit(req, res);
  const { m, f } = kit;
  const who = await pageSubscriber(ctx, req, res);
  if (who === 'redirected') return;
  if (!who) return signInPage(kit, res);
  const brand = who.subscriber.operator.brand;
  const id = consentIdParam.safeParse(req.params.id);
  const offer = id.success ? await find(id.data) : null;
  if (!offer || (offer.subscriberId !== null && offer.subscriberId !== who.subscriber.id)) {
    renderedConsentFailure(kit, res, brand, kind, new AppError('not_found', 'not found'));
    return;
  }
  if (offer.status === 'expired') {
    renderedConsentFailure(kit, res, brand, kind, new AppError('consent_expired', 'expired'), offer);
    return;
  }
  const back = backToPublisher(m, offer);
  if (offer.status !== 'pending') {
    const label = (kind === 'purchase' ? m.purchaseStatus : m.subscriptionStatus)[offer.status] ?? m.unknownStatus;
    const sentence = kind === 'purchase' ? m.purchaseSettled(label) : m.subscriptionSettled(label);
    return sendHtml(
      res,
      200,
      messagePage(kit.shell(offer.description, brand), {
        title: offer.description,
        paragraphs: [sentence],
        links: [...back, { href: ME_PATH, label: m.meLink }],
      }),
    );
  }
  const now = new Date();
  const amount = offer.amount;
  const forecastFor = (euros: Decimal) =>
    forecastCharge(ctx.database.sql, who.subscriber, who.subscriber.operator, offer.publisher, euros, now);
  const [budget, forecastInEuros, points] = await Promise.all([
    subscriberBudget(ctx.database.sql, who.subscriber, now),
    forecastFor(amount),
    kind === 'purchase' ? pointsOffer(ctx.database.sql, who.subscriber, who.subscriber.operator, amount) : null,
  ]);
  // Over a limit in euros, the purchase may still pass with points: the euro part is what the limits count.
  const overLimit = forecastInEuros !== null && LIMIT_CODES.includes(forecastInEuros.code);
  const pointsOnly = overLimit && points !== null && (await forecastFor(points.euros)) === null;
  const forecast = pointsOnly ? null : forecastInEuros;
  // The answer to this page's form redirects to the publisher: the browser must be allowed to follow it.
  await countConsentPageShown(ctx.database.sql, who.subscriber.operatorId, offer.id);
  setPageCsp(res, offer.returnUrl ? [new URL(offer.returnUrl).origin] : []);
  sendHtml(
    res,
    200,
    consentPage(kit.shell(m.consentTitle(offer.description), brand), f, {
      publisherName: offer.publisher.name,
      legalName: offer.publisher.legalName,
      supportUrl: offer.publisher.supportUrl,
      description: offer.description,
      price: amount.toFixed(2),
      subscription: offer.plan ? { plan: offer.plan, nextRenewal: nextPeriodEnd(now, offer.plan, now) } : null,
      budget,
      forecast,
      points,
      pointsOnly,
      returnUrl: offer.returnUrl,
      confirmAction: `${req.baseUrl}${req.path}/confirm`,
      csrfToken: csrfToken(who.session, offer.id, ctx.config.sessionSecret),
      meHref: ME_PATH,
    }),
  );
}

/** How a confirmation on a consent page ended, in the words the result page needs. */
export interface PageConfirmation {
  id: string;
  declineCode: DeclineCode | null;
  returnUrl: string | null;
  /** The thank-you page's paragraphs, in the page's language: what was bought from `seller`, its reference, what comes next. */
  thanks: (seller: string) => string[];
  /** A subscription's thank-you page leads to where it can be canceled. */
  subscription: boolean;
}

/**
 * Click two on a consent page: the form's session and CSRF token, the
 * subscriber's lane, one transaction; then back to the publisher's returnUrl
 * with the outcome, or a result page when there is none.
 */
export async function confirmOnConsentPage(
  ctx: AppContext,
  req: Request,
  res: Response,
  kind: OfferKind,
  find: (id: string) => Promise<ConsentOffer | null>,
  confirm: (
    sql: Sql,
    subscriber: SubscriberWithOperator,
    evidence: ConsentEvidence,
    kit: PageKit,
  ) => Promise<PageConfirmation>,
): Promise<void> {
  const kit = pageKit(req, res);
  const { m } = kit;
  const id = String(req.params.id);
  const form = await formSubscriber(ctx, req, res, kit, id);
  if (!form) return;
  const { subscriber, session } = form;
  const brand = subscriber.operator.brand;
  try {
    const result = await inSubscriberLane(subscriber, () =>
      ctx.database.transaction((sql) =>
        confirm(sql, subscriber, consentEvidence(req, session.assertionId, CONSENT_PAGE_VERSION), kit),
      ),
    );
    if (result.returnUrl) {
      return res.redirect(
        303,
        returnUrlWith(result.returnUrl, kind, result.id, result.declineCode ? 'declined' : 'confirmed'),
      );
    }
    const me = { href: ME_PATH, label: m.meLink };
    if (result.declineCode) {
      const title = kind === 'purchase' ? m.purchaseDeclinedTitle : m.subscriptionDeclinedTitle;
      return sendHtml(
        res,
        402,
        messagePage(kit.shell(title, brand), {
          title,
          paragraphs: [m.declined[result.declineCode], m.nothingCharged],
          links: [me],
          alert: true,
        }),
      );
    }
    const manage = { href: `${ME_PATH}#subscriptions`, label: m.manageSubscriptions, primary: true };
    sendHtml(
      res,
      200,
      messagePage(kit.shell(m.thanksTitle, brand), {
        title: m.thanksTitle,
        paragraphs: result.thanks((await find(result.id))?.publisher.name ?? ''),
        links: result.subscription ? [manage, me] : [me],
      }),
    );
  } catch (error) {
    const offer =
      error instanceof AppError && error.code === 'consent_expired' && consentIdParam.safeParse(id).success
        ? await find(id)
        : null;
    const own = offer && (offer.subscriberId === null || offer.subscriberId === subscriber.id) ? offer : null;
    if (!renderedConsentFailure(kit, res, brand, kind, error, own)) throw error;
  }
}
