import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { invoicesOfSubscriber } from '../../domain/billing-invoices.js';
import { CATEGORIES } from '../../domain/categories.js';
import { nextMonthStart, nextWeekStart } from '../../domain/charge-forecast.js';
import { suspensionPolicy } from '../../domain/dispute-rate.js';
import { assertDisputable, listDisputes, openDisputeAlone } from '../../domain/disputes.js';
import { AppError } from '../../domain/errors.js';
import { Decimal } from '../../shared/money.js';
import { householdPoints, type HouseholdPoints } from '../../domain/household-points.js';
import { controlsInForce, replaceControls } from '../../domain/parental-controls.js';
import { purchaseStatus } from '../../domain/offer-status.js';
import type { PurchaseView } from '../../domain/webhook-payloads.js';
import { consentResource } from '../presenters/resources.js';
import { operatorLimits } from '../../domain/spending.js';
import { cancelSubscriptionAlone } from '../../domain/subscriptions.js';
import type { PurchaseRecord, SubscriptionRecord } from '../../store/records.js';
import type { SoldPurchase } from '../../store/subscriber-space.js';
import type { SubscriberWithOperator } from '../../store/subscribers.js';
import {
  correctedInvoiceNumbers,
  householdChildren,
  recentPurchases,
  recentSubscriptions,
  sellersOf,
} from '../../domain/subscriber-space.js';
import { formSubscriber, pageSubscriber, signInPage } from '../consent-session.js';
import type { AppContext } from '../context.js';
import type { Formatter } from '../pages/format.js';
import { invoiceItem } from '../pages/invoice-list.js';
import { messagePage } from '../pages/layout.js';
import type { Messages } from '../pages/messages/fr.js';
import { parentSpacePage, type ChildView } from '../pages/parent-space.js';
import { pageKit, sendHtml, type PageKit } from '../pages/render.js';
import {
  purchaseShownStatus,
  subscriberSpacePage,
  type ConsentEvidenceView,
  type PurchaseItem,
  type SubscriptionItem,
} from '../pages/subscriber-space.js';
import { csrfToken } from '../session.js';
import { subscriberBudget } from '../../domain/spending.js';
import { childRef } from './parental.js';

/** Every form of the subscriber and parent spaces carries a CSRF token of this scope, bound to the session. */
const SPACE_CSRF_SCOPE = 'subscriber-space';
const LIST_SIZE = 50;
const CHILD_LIST_SIZE = 10;

const idParam = z.string().min(1).max(64);
const noticeParam = z.enum(['subscription_canceled', 'dispute_opened', 'controls_saved']);
const errorParam = z.enum(['invalid_state', 'not_found', 'invalid_request', 'reason_required']);
/** "20", "20,5", "20.50": how people type euros; empty means the operator's limit. */
const typedAmount = /^\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*$/;

const disputeForm = z.object({ purchaseId: idParam, reason: z.string().trim().min(1).max(1000) });

type Loaded = SubscriberWithOperator;

function evidenceOf(purchase: PurchaseView, publisherName: string, operatorBrand: string): ConsentEvidenceView | null {
  const consent = consentResource(purchase);
  if (!consent) return null;
  return {
    ...consent,
    at: consent.at ? new Date(consent.at) : null,
    operatorBrand,
    amount: purchase.amount.toFixed(2),
    publisherName,
    description: purchase.description,
  };
}

function disputable(purchase: PurchaseRecord, now: Date): boolean {
  try {
    assertDisputable(purchase, now);
    return true;
  } catch {
    return false;
  }
}

function purchaseItem(
  { purchase: p, publisherName, invoice }: SoldPurchase,
  operatorBrand: string,
  now: Date,
): PurchaseItem {
  return {
    id: p.id,
    at: p.confirmedAt ?? p.createdAt,
    publisherName,
    description: p.description,
    amount: p.amount.toFixed(2),
    refunded: p.refundedAmount.gt(0) ? p.refundedAmount.toFixed(2) : null,
    status: purchaseShownStatus(purchaseStatus(p, now), invoice?.status ?? null),
    invoice: invoice === null ? null : { id: invoice.id, number: invoice.number, issuedOn: invoice.issuedAt },
    evidence: evidenceOf(p, publisherName, operatorBrand),
    disputable: disputable(p, now),
  };
}

async function purchasesOf(
  ctx: AppContext,
  subscriber: { id: string; operator: { brand: string } },
  take: number,
  now: Date,
): Promise<PurchaseItem[]> {
  const rows = await recentPurchases(ctx.database.sql, subscriber.id, take);
  return rows.map((row) => purchaseItem(row, subscriber.operator.brand, now));
}

function subscriptionItem(
  { subscription: s, publisherName }: { subscription: SubscriptionRecord; publisherName: string },
  now: Date,
): SubscriptionItem {
  const status = purchaseStatus(s, now);
  return {
    id: s.id,
    publisherName,
    description: s.description,
    amount: s.amount.toFixed(2),
    plan: s.plan,
    status,
    renewsOn: s.currentPeriodEnd,
    canceledOn: s.canceledAt,
    accessUntil: s.currentPeriodEnd && s.currentPeriodEnd > now ? s.currentPeriodEnd : null,
    cancelable: status === 'active' || status === 'past_due',
  };
}

/** After a cancel: which subscription, and until when its paid period lasts. */
function canceledNotice(m: Messages, f: Formatter, subscriptions: SubscriptionItem[], id: unknown): string {
  const canceled = subscriptions.find((s) => s.id === id && s.status === 'canceled');
  if (!canceled) return m.notice.subscription_canceled ?? '';
  return canceled.accessUntil
    ? m.canceledUntil(canceled.description, f.date(canceled.accessUntil))
    : m.canceledNow(canceled.description);
}

function queryOf<T extends string>(schema: z.ZodType<T>, value: unknown): T | null {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

function pointsView(points: HouseholdPoints) {
  return {
    available: points.available,
    availableValue: points.availableValue,
    pending: points.pending,
    owed: points.owed,
    history: points.history.map((h) => ({
      type: h.type,
      points: h.points,
      available: h.available,
      at: h.at,
    })),
  };
}

async function showSpace(
  ctx: AppContext,
  req: Request,
  res: Response,
  kit: PageKit,
  who: { subscriber: Loaded; csrf: string },
): Promise<void> {
  const { m, f } = kit;
  const { subscriber } = who;
  const now = new Date();
  const [budget, points, purchases, soldSubscriptions, disputes, invoices, children] = await Promise.all([
    subscriberBudget(ctx.database.sql, subscriber, now),
    householdPoints(ctx.database.sql, subscriber, { cursor: null, limit: LIST_SIZE }),
    purchasesOf(ctx, subscriber, LIST_SIZE, now),
    recentSubscriptions(ctx.database.sql, subscriber.id, LIST_SIZE),
    listDisputes(ctx.database.sql, { kind: 'subscriber', subscriberId: subscriber.id }, { limit: LIST_SIZE }),
    invoicesOfSubscriber(ctx.database.sql, subscriber.id, 24),
    householdChildren(ctx.database.sql, subscriber),
  ]);
  const subscriptions = soldSubscriptions.map((sold) => subscriptionItem(sold, now));
  const [publisherNames, numbers] = await Promise.all([
    sellersOf(ctx.database.sql, disputes),
    correctedInvoiceNumbers(ctx.database.sql, subscriber.id, invoices),
  ]);
  const notice = queryOf(noticeParam, req.query.notice);
  const error = queryOf(errorParam, req.query.error);
  sendHtml(
    res,
    200,
    subscriberSpacePage(kit.shell(m.meTitle, subscriber.operator.brand), f, {
      budget,
      points: points.enabled || points.available > 0 || points.pending > 0 ? pointsView(points) : null,
      weekResets: nextWeekStart(now),
      monthResets: nextMonthStart(now),
      purchases,
      subscriptions,
      disputes: disputes.map((d) => {
        const publisherName = publisherNames.get(d.purchase.publisherId) ?? '';
        return {
          id: d.id,
          description: d.purchase.description,
          publisherName,
          amount: d.purchase.amount.toFixed(2),
          reason: d.reason,
          status: d.status,
          openedOn: d.createdAt,
          respondBy: d.respondBy,
          publisherEvidence: d.evidence,
          evidence: evidenceOf(d.purchase, publisherName, subscriber.operator.brand),
        };
      }),
      invoices: invoices.map((i) => invoiceItem(i, numbers)),
      hasChildren: children.length > 0,
      notice:
        notice === 'subscription_canceled'
          ? canceledNotice(m, f, subscriptions, req.query.subscription)
          : notice
            ? (m.notice[notice] ?? null)
            : null,
      error: error ? (m.actionFailed[error] ?? null) : null,
      csrf: who.csrf,
    }),
  );
}

/** A form's answer: back to the page it came from, with what happened (Post/Redirect/Get). */
function backTo(res: Response, path: string, outcome: { notice?: string; error?: string }, anchor = ''): void {
  const query = outcome.notice ? `?notice=${outcome.notice}` : outcome.error ? `?error=${outcome.error}` : '';
  res.redirect(303, `${path}${query}${anchor}`);
}

/** The codes a person can be told about after a form; anything else is a fault for the error handler. */
function pageErrorCode(error: unknown): 'invalid_state' | 'not_found' | 'invalid_request' | null {
  if (!(error instanceof AppError)) return null;
  if (error.code === 'invalid_state' || error.code === 'not_found' || error.code === 'invalid_request')
    return error.code;
  if (error.code === 'forbidden') return 'not_found';
  return null;
}

/** The controls form as the browser posts it (urlencoded); every field is checked before use. */
interface ControlsForm {
  categories?: unknown;
  blocked?: unknown;
  pointsAllowed?: unknown;
  weekly?: unknown;
  monthly?: unknown;
}

interface ControlsDraft {
  form: ChildView['form'];
  errors: ChildView['errors'];
}

function parseLimit(value: unknown): Decimal | null | 'invalid' {
  if (value === undefined || (typeof value === 'string' && value.trim() === '')) return null;
  const match = typeof value === 'string' ? typedAmount.exec(value) : null;
  if (!match) return 'invalid';
  const amount = new Decimal(`${match[1]}.${(match[2] ?? '').padEnd(2, '0')}`);
  return amount.gt(0) ? amount : 'invalid';
}

async function showChildren(
  ctx: AppContext,
  res: Response,
  kit: PageKit,
  holder: Loaded,
  csrf: string,
  outcome: { status: number; notice: string | null; error: string | null; draft?: { ref: string } & ControlsDraft },
): Promise<void> {
  const { m, f } = kit;
  const now = new Date();
  const limits = operatorLimits(holder.operator);
  const children = await householdChildren(ctx.database.sql, holder);
  const views: ChildView[] = await Promise.all(
    children.map(async (child) => {
      const controls = controlsInForce(child, holder.operator);
      const draft = outcome.draft?.ref === child.externalRef ? outcome.draft : null;
      return {
        ref: child.externalRef,
        name: child.displayName ?? child.externalRef,
        form: draft?.form ?? {
          blocked: child.blocked,
          blockedCategories: child.blockedCategories,
          pointsAllowed: child.pointsAllowed,
          weekly: child.limitWeekly ? f.decimal(child.limitWeekly) : '',
          monthly: child.limitMonthly ? f.decimal(child.limitMonthly) : '',
        },
        saved: { blocked: child.blocked, blockedCategories: child.blockedCategories },
        weeklyInForce: controls.weekly,
        monthlyInForce: controls.monthly,
        errors: draft?.errors ?? {},
        budget: await subscriberBudget(ctx.database.sql, child, now),
        purchases: await purchasesOf(ctx, { id: child.id, operator: holder.operator }, CHILD_LIST_SIZE, now),
      };
    }),
  );
  sendHtml(
    res,
    outcome.status,
    parentSpacePage(kit.shell(m.childrenTitle, holder.operator.brand), f, {
      operatorWeekly: limits.weekly.toFixed(2),
      operatorMonthly: limits.monthly.toFixed(2),
      children: views,
      notice: outcome.notice,
      error: outcome.error,
      csrf,
    }),
  );
}

function notHolderPage(res: Response, kit: PageKit, brand: string): void {
  sendHtml(
    res,
    403,
    messagePage(kit.shell(kit.m.notHolderTitle, brand), {
      title: kit.m.notHolderTitle,
      paragraphs: [kit.m.notHolderText],
      links: [{ href: '/me', label: kit.m.meTitle }],
      alert: true,
    }),
  );
}

/**
 * The subscriber space (/me) and the parent space (/me/children): pages over
 * the same domain functions as /v1 (cancel, disputes, controls), with the
 * session of the consent pages and a CSRF token on every form.
 */
export function subscriberPageRoutes(ctx: AppContext): Router {
  const router = Router();
  const { publicUrl, sessionSecret } = ctx.config;

  router.get('/', async (req, res) => {
    const kit = pageKit(req, res);
    const who = await pageSubscriber(ctx, req, res);
    if (who === 'redirected') return;
    if (!who) return signInPage(kit, res);
    await showSpace(ctx, req, res, kit, {
      subscriber: who.subscriber,
      csrf: csrfToken(who.session, SPACE_CSRF_SCOPE, sessionSecret),
    });
  });

  router.post('/subscriptions/:id/cancel', async (req, res) => {
    const kit = pageKit(req, res);
    const form = await formSubscriber(ctx, req, res, kit, SPACE_CSRF_SCOPE);
    if (!form) return;
    const id = idParam.safeParse(req.params.id);
    if (!id.success) return backTo(res, '/me', { error: 'not_found' });
    try {
      await cancelSubscriptionAlone(
        ctx.database,
        id.data,
        { kind: 'subscriber', subscriberId: form.subscriber.id },
        publicUrl,
      );
    } catch (error) {
      const code = pageErrorCode(error);
      if (!code) throw error;
      return backTo(res, '/me', { error: code }, '#subscriptions');
    }
    // The page names the subscription and says until when it lasts, so it needs to know which one.
    res.redirect(
      303,
      `/me?notice=subscription_canceled&subscription=${encodeURIComponent(id.data)}#subscription-${encodeURIComponent(id.data)}`,
    );
  });

  router.post('/disputes', async (req, res) => {
    const kit = pageKit(req, res);
    const form = await formSubscriber(ctx, req, res, kit, SPACE_CSRF_SCOPE);
    if (!form) return;
    const input = disputeForm.safeParse(req.body ?? {});
    if (!input.success) return backTo(res, '/me', { error: 'reason_required' }, '#purchases');
    try {
      await openDisputeAlone(
        ctx.database,
        {
          purchaseId: input.data.purchaseId,
          subscriber: form.subscriber,
          openedBy: 'subscriber',
          reason: input.data.reason,
        },
        { publicUrl, suspension: suspensionPolicy(ctx.config) },
      );
    } catch (error) {
      const code = pageErrorCode(error);
      if (!code) throw error;
      return backTo(res, '/me', { error: code }, '#purchases');
    }
    backTo(res, '/me', { notice: 'dispute_opened' }, '#disputes');
  });

  router.get('/children', async (req, res) => {
    const kit = pageKit(req, res);
    const who = await pageSubscriber(ctx, req, res);
    if (who === 'redirected') return;
    if (!who) return signInPage(kit, res);
    if (who.subscriber.holderId !== null) return notHolderPage(res, kit, who.subscriber.operator.brand);
    const notice = queryOf(noticeParam, req.query.notice);
    const error = queryOf(errorParam, req.query.error);
    await showChildren(ctx, res, kit, who.subscriber, csrfToken(who.session, SPACE_CSRF_SCOPE, sessionSecret), {
      status: 200,
      notice: notice ? (kit.m.notice[notice] ?? null) : null,
      error: error ? (kit.m.actionFailed[error] ?? null) : null,
    });
  });

  router.post('/children/:ref/controls', async (req, res) => {
    const kit = pageKit(req, res);
    const { m, f } = kit;
    const form = await formSubscriber(ctx, req, res, kit, SPACE_CSRF_SCOPE);
    if (!form) return;
    const holder = form.subscriber;
    if (holder.holderId !== null) return notHolderPage(res, kit, holder.operator.brand);
    const ref = childRef.safeParse(req.params.ref);
    if (!ref.success) return backTo(res, '/me/children', { error: 'not_found' });
    const body = (req.body ?? {}) as ControlsForm;
    const chosen: unknown[] = Array.isArray(body.categories)
      ? body.categories
      : body.categories === undefined
        ? []
        : [body.categories];
    const categories = CATEGORIES.filter((c) => chosen.includes(c));
    const draft: ControlsDraft = {
      form: {
        blocked: body.blocked === 'on',
        blockedCategories: categories,
        pointsAllowed: body.pointsAllowed === 'on',
        weekly: typeof body.weekly === 'string' ? body.weekly.slice(0, 20) : '',
        monthly: typeof body.monthly === 'string' ? body.monthly.slice(0, 20) : '',
      },
      errors: {},
    };
    const weekly = parseLimit(body.weekly);
    const monthly = parseLimit(body.monthly);
    if (weekly === 'invalid') draft.errors.weekly = m.limitInvalid;
    if (monthly === 'invalid') draft.errors.monthly = m.limitInvalid;
    const csrf = csrfToken(form.session, SPACE_CSRF_SCOPE, sessionSecret);
    const refuse = () =>
      showChildren(ctx, res, kit, holder, csrf, {
        status: 400,
        notice: null,
        error: m.saveFailed,
        draft: { ref: ref.data, ...draft },
      });
    if (weekly === 'invalid' || monthly === 'invalid') return refuse();
    try {
      await replaceControls(ctx.database, holder, ref.data, {
        blocked: draft.form.blocked,
        blockedCategories: categories,
        pointsAllowed: draft.form.pointsAllowed,
        weekly,
        monthly,
      });
    } catch (error) {
      if (error instanceof AppError && error.code === 'invalid_request') {
        const limits = operatorLimits(holder.operator);
        const fields = (error.details.fields ?? {}) as Record<string, unknown>;
        if (fields.weekly) draft.errors.weekly = m.limitAbove(f.money(limits.weekly));
        if (fields.monthly) draft.errors.monthly = m.limitAbove(f.money(limits.monthly));
        return refuse();
      }
      const code = pageErrorCode(error);
      if (!code) throw error;
      return backTo(res, '/me/children', { error: code });
    }
    const index = (await householdChildren(ctx.database.sql, holder)).findIndex((c) => c.externalRef === ref.data);
    backTo(res, '/me/children', { notice: 'controls_saved' }, index >= 0 ? `#child-${index}` : '');
  });

  return router;
}
