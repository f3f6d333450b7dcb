import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { invoicesOfSubscriber } from '../../domain/billing-invoices.js';
import { CATEGORIES } from '../../domain/categories.js';
import { nextMonthStart, nextWeekStart } from '../../domain/charge-forecast.js';
import { suspensionPolicy } from '../../domain/dispute-rate.js';
import { assertDisputable, listDisputes, openDisputeAlone } from '../../domain/disputes.js';
import { AppError } from '../../domain/errors.js';
import { Decimal } from '../../domain/money.js';
import { householdPoints, type HouseholdPoints } from '../../domain/household-points.js';
import { controlsInForce, replaceControls } from '../../domain/parental-controls.js';
import { purchaseStatus } from '../../domain/offer-status.js';
import type { PurchaseView } from '../../domain/webhook-payloads.js';
import { consentResource } from '../presenters/resources.js';
import { operatorLimits } from '../../domain/spending.js';
import { cancelSubscriptionAlone } from '../../domain/subscriptions.js';
import type { PurchaseRecord } from '../../store/records.js';
import {
  purchasesWithSeller,
  publisherNames as namesOf,
  subscriptionsWithSeller,
  type SoldPurchase,
} from '../../store/subscriber-space.js';
import { childrenOf, type SubscriberWithOperator } from '../../store/subscribers.js';
import { formSubscriber, pageSubscriber, signInPage } from '../consent-session.js';
import type { AppContext } from '../context.js';
import { messagePage } from '../pages/layout.js';
import { parentSpacePage, type ChildView } from '../pages/parent-space.js';
import { pageKit, sendHtml, type PageKit } from '../pages/render.js';
import { subscriberSpacePage, type ConsentEvidenceView, type PurchaseItem } from '../pages/subscriber-space.js';
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

function evidenceOf(purchase: PurchaseView): ConsentEvidenceView | null {
  const consent = consentResource(purchase);
  return consent ? { ...consent, at: consent.at ? new Date(consent.at) : null } : null;
}

function disputable(purchase: PurchaseRecord, now: Date): boolean {
  try {
    assertDisputable(purchase, now);
    return true;
  } catch {
    return false;
  }
}

function purchaseItem({ purchase: p, publisherName, invoicedAt }: SoldPurchase, now: Date): PurchaseItem {
  return {
    id: p.id,
    at: p.confirmedAt ?? p.createdAt,
    publisherName,
    description: p.description,
    amount: p.amount.toFixed(2),
    refunded: p.refundedAmount.gt(0) ? p.refundedAmount.toFixed(2) : null,
    status: purchaseStatus(p, now),
    invoicedOn: invoicedAt,
    evidence: evidenceOf(p),
    disputable: disputable(p, now),
  };
}

async function purchasesOf(ctx: AppContext, subscriberId: string, take: number, now: Date): Promise<PurchaseItem[]> {
  const rows = await purchasesWithSeller(ctx.database.sql, subscriberId, take);
  return rows.map((row) => purchaseItem(row, now));
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
  const [budget, points, purchases, subscriptions, disputes, invoices] = await Promise.all([
    subscriberBudget(ctx.database.sql, subscriber, now),
    householdPoints(ctx.database.sql, subscriber, { cursor: null, limit: LIST_SIZE }),
    purchasesOf(ctx, subscriber.id, LIST_SIZE, now),
    subscriptionsWithSeller(ctx.database.sql, subscriber.id, LIST_SIZE),
    listDisputes(ctx.database.sql, { kind: 'subscriber', subscriberId: subscriber.id }, { limit: LIST_SIZE }),
    invoicesOfSubscriber(ctx.database.sql, subscriber.id, 24),
  ]);
  const publisherNames = await namesOf(ctx.database.sql, [...new Set(disputes.map((d) => d.purchase.publisherId))]);
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
      subscriptions: subscriptions.map(({ subscription: s, publisherName }) => {
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
          cancelable: status === 'active' || status === 'past_due',
        };
      }),
      disputes: disputes.map((d) => ({
        id: d.id,
        description: d.purchase.description,
        publisherName: publisherNames.get(d.purchase.publisherId) ?? '',
        amount: d.purchase.amount.toFixed(2),
        reason: d.reason,
        status: d.status,
        openedOn: d.createdAt,
        respondBy: d.respondBy,
        publisherEvidence: d.evidence,
        evidence: evidenceOf(d.purchase),
      })),
      invoices: invoices.map((i) => ({
        id: i.id,
        issuedOn: i.createdAt,
        total: i.total.toFixed(2),
        vat: i.vatAmount.toFixed(2),
        status: i.status,
        lines: i.lines.map((l) => ({ description: l.description, amount: l.amount.toFixed(2) })),
      })),
      isHolder: subscriber.holderId === null,
      notice: notice ? (m.notice[notice] ?? null) : null,
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
  const children = await childrenOf(ctx.database.sql, holder.id);
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
          weekly: child.limitWeekly ? child.limitWeekly.toFixed(2) : '',
          monthly: child.limitMonthly ? child.limitMonthly.toFixed(2) : '',
        },
        weeklyInForce: controls.weekly,
        monthlyInForce: controls.monthly,
        errors: draft?.errors ?? {},
        purchases: await purchasesOf(ctx, child.id, CHILD_LIST_SIZE, now),
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
    backTo(res, '/me', { notice: 'subscription_canceled' }, '#subscriptions');
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
    const index = (await childrenOf(ctx.database.sql, holder.id)).findIndex((c) => c.externalRef === ref.data);
    backTo(res, '/me/children', { notice: 'controls_saved' }, index >= 0 ? `#child-${index}` : '');
  });

  return router;
}
