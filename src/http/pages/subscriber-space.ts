import { html } from 'ghtml';
import type { Budget } from '../../domain/ceilings.js';
import type { Decimal } from '../../shared/money.js';
import type { Plan } from '../../shared/catalogue.js';
import type { Formatter } from './format.js';
import { invoiceList, type InvoiceItem } from './invoice-list.js';
import { layout, type Shell } from './layout.js';
import type { Messages } from './messages/fr.js';
import { deviceOf } from './user-agent.js';

export interface ConsentEvidenceView {
  at: Date | null;
  ip: string | null;
  userAgent: string | null;
  pageVersion: string | null;
  assertionId: string;
  /** The operator whose assertion identified the subscriber. */
  operatorBrand: string;
  /** What the subscriber agreed to. */
  amount: string;
  publisherName: string;
  description: string;
}

export interface PurchaseItem {
  id: string;
  at: Date;
  publisherName: string;
  description: string;
  amount: string;
  refunded: string | null;
  /** As a person reads it: see purchaseShownStatus. */
  status: string;
  /** The invoice that billed it; null until it is billed. */
  invoice: { id: string; number: string | null; issuedOn: Date } | null;
  evidence: ConsentEvidenceView | null;
  disputable: boolean;
}

export interface SubscriptionItem {
  id: string;
  publisherName: string;
  description: string;
  amount: string;
  plan: Plan;
  status: string;
  renewsOn: Date | null;
  canceledOn: Date | null;
  /** The end of the period already paid, while it is still ahead: access lasts until then, even once canceled. */
  accessUntil: Date | null;
  cancelable: boolean;
}

export interface DisputeItem {
  id: string;
  description: string;
  publisherName: string;
  amount: string;
  reason: string;
  status: string;
  openedOn: Date;
  respondBy: Date;
  publisherEvidence: string | null;
  evidence: ConsentEvidenceView | null;
}

/** The household's Kiosque Points, when its operator runs the programme. */
export interface PointsView {
  available: number;
  availableValue: Decimal;
  pending: number;
  owed: number;
  history: { type: string; points: number; available: number; at: Date }[];
}

export interface SpaceView {
  points: PointsView | null;
  budget: Budget;
  weekResets: Date;
  monthResets: Date;
  purchases: PurchaseItem[];
  subscriptions: SubscriptionItem[];
  disputes: DisputeItem[];
  invoices: InvoiceItem[];
  /** A holder with at least one child: only then is the parent space offered. */
  hasChildren: boolean;
  notice: string | null;
  error: string | null;
  csrf: string;
}

const status = (label: string, code: string) => html`<span class="status status-${code}">${label}</span>`;

/**
 * A confirmed purchase's status as its invoice has it, so that /me never says
 * "paid" beside an invoice still to be paid: confirmed (on the next bill),
 * billed, paid, unpaid or partly paid. Other statuses are the purchase's own.
 */
export function purchaseShownStatus(status: string, invoiceStatus: string | null): string {
  if (status !== 'confirmed' || invoiceStatus === null) return status;
  return invoiceStatus === 'issued' ? 'billed' : invoiceStatus;
}

function deviceSentence(m: Messages, userAgent: string | null): string {
  const { browser, os } = deviceOf(userAgent);
  if (browser && os) return m.deviceOn(browser, os);
  return browser ?? os ?? m.unknownDevice;
}

/** A person's summary of their consent (when, on what, through whom, to what), the raw record kept below it for a dispute. */
function evidenceDetails(m: Messages, f: Formatter, evidence: ConsentEvidenceView | null): string {
  if (!evidence) return html`<p class="meta">${m.evidenceNone}</p>`;
  return html`<details class="evidence"><summary>${m.evidenceSummary}</summary>
!${evidence.at ? html`<p>${m.evidenceWhen(f.date(evidence.at), f.time(evidence.at), deviceSentence(m, evidence.userAgent))}</p>` : ''}
<p>${m.evidenceAgreed(f.money(evidence.amount), evidence.publisherName, evidence.description)}</p>
<p>${m.evidenceOperator(evidence.operatorBrand)}</p>
<details class="raw"><summary>${m.evidenceRaw}</summary><dl>
!${evidence.at ? html`<dt>${m.evidenceAt}</dt><dd>${evidence.at.toISOString()}</dd>` : ''}
<dt>${m.evidenceIp}</dt><dd>${evidence.ip ?? '—'}</dd>
<dt>${m.evidenceBrowser}</dt><dd>${evidence.userAgent ?? '—'}</dd>
<dt>${m.evidencePage}</dt><dd>${evidence.pageVersion ?? '—'}</dd>
<dt>${m.evidenceAssertion}</dt><dd>${evidence.assertionId}</dd>
</dl></details>
</details>`;
}

/**
 * Which invoice billed a purchase: by its number when it has one (the date
 * alone names no document), leading to it when the page lists it.
 */
function invoiceMention(
  m: Messages,
  f: Formatter,
  invoice: NonNullable<PurchaseItem['invoice']>,
  listed: ReadonlySet<string>,
): string {
  const issuedOn = f.date(invoice.issuedOn);
  const sentence =
    invoice.number === null
      ? html`${m.onInvoice(issuedOn)}`
      : html`${m.onInvoiceNumbered}&nbsp;<span class="doc-number">${invoice.number}</span> ${m.invoiceDated(issuedOn)}`;
  return listed.has(invoice.id) ? html`<a href="#invoice-${invoice.id}">!${sentence}</a>` : sentence;
}

/** `listedInvoices`: the ids of the invoices the same page lists, which a purchase can lead to. */
export function purchaseList(
  m: Messages,
  f: Formatter,
  purchases: PurchaseItem[],
  forms: { csrf: string } | null,
  listedInvoices: ReadonlySet<string>,
): string {
  if (!purchases.length) return html`<p>${m.noPurchases}</p>`;
  return html`<ul class="items">!${purchases.map(
    (p) => html`<li id="purchase-${p.id}">
<div class="item-head"><h3>${p.description}</h3><span class="amount">${f.money(p.amount)}</span></div>
<p class="meta">${f.date(p.at)} · ${p.publisherName} · !${status(m.purchaseStatus[p.status] ?? m.unknownStatus, p.status)}</p>
!${p.refunded ? html`<p class="meta">${m.refundedPart(f.money(p.refunded))}</p>` : ''}
!${p.invoice ? html`<p class="meta">!${invoiceMention(m, f, p.invoice, listedInvoices)}</p>` : ''}
!${forms ? evidenceDetails(m, f, p.evidence) : ''}
!${
      forms && p.disputable
        ? html`<details><summary>${m.disputeSummary}</summary>
<form class="inline" method="post" action="/me/disputes">
<input type="hidden" name="csrf" value="${forms.csrf}">
<input type="hidden" name="purchaseId" value="${p.id}">
<label for="reason-${p.id}">${m.disputeReason}</label>
<span class="hint" id="reason-hint-${p.id}">${m.disputeHint}</span>
<textarea id="reason-${p.id}" name="reason" rows="3" maxlength="1000" required aria-describedby="reason-hint-${p.id}"></textarea>
<p><button type="submit" class="secondary">${m.disputeButton}</button></p>
</form></details>`
        : ''
    }
</li>`,
  )}</ul>`;
}

function subscriptionList(m: Messages, f: Formatter, items: SubscriptionItem[], csrf: string): string {
  if (!items.length) return html`<p>${m.noSubscriptions}</p>`;
  return html`<ul class="items">!${items.map(
    (s) => html`<li id="subscription-${s.id}">
<div class="item-head"><h3>${s.description}</h3><span class="amount">${f.money(s.amount)} <span class="period">${m.period[s.plan]}</span></span></div>
<p class="meta">${s.publisherName} · !${status(m.subscriptionStatus[s.status] ?? m.unknownStatus, s.status)}</p>
!${s.renewsOn && s.cancelable ? html`<p class="meta">${m.renewsOn(f.date(s.renewsOn))}</p>` : ''}
!${s.canceledOn ? html`<p class="meta">${m.canceledOn(f.date(s.canceledOn))}!${s.accessUntil ? html` · ${m.accessUntil(f.date(s.accessUntil))}` : ''}</p>` : ''}
!${
      s.cancelable
        ? html`<p class="hint">${s.accessUntil ? m.cancelHint(f.date(s.accessUntil)) : m.cancelHintNow}</p>
<details class="cancel"><summary>${m.cancelButton}<span class="visually-hidden"> (${s.description})</span></summary>
<form class="inline" method="post" action="/me/subscriptions/${s.id}/cancel">
<input type="hidden" name="csrf" value="${csrf}">
<button type="submit" class="danger">${m.cancelConfirmButton}<span class="visually-hidden"> (${s.description})</span></button>
</form></details>`
        : ''
    }
</li>`,
  )}</ul>`;
}

function disputeList(m: Messages, f: Formatter, items: DisputeItem[]): string {
  if (!items.length) return html`<p>${m.noDisputes}</p>`;
  return html`<ul class="items">!${items.map(
    (d) => html`<li id="dispute-${d.id}">
<div class="item-head"><h3>${m.disputeOn(d.description)}</h3><span class="amount">${f.money(d.amount)}</span></div>
<p class="meta">${d.publisherName} · ${m.disputeOpenedOn} ${f.date(d.openedOn)}</p>
<p>!${status((m.disputeStatus[d.status] ?? (() => m.unknownStatus))(f.date(d.respondBy)), d.status)}</p>
<p><strong>${m.disputeYourReason}</strong> ${d.reason}</p>
!${d.publisherEvidence ? html`<p><strong>${m.publisherEvidence}</strong> ${d.publisherEvidence}</p>` : ''}
!${evidenceDetails(m, f, d.evidence)}
</li>`,
  )}</ul>`;
}

function signed(points: number): string {
  return points > 0 ? `+${points}` : String(points);
}

function pointsSection(m: Messages, f: Formatter, points: PointsView): string {
  return html`<section class="card" aria-labelledby="points">
<h2 id="points">${m.pointsHeading}</h2>
<p class="points-balance"><strong>${m.pointsAvailable(String(points.available), f.money(points.availableValue))}</strong></p>
<p class="meta">${m.pointsPending(String(points.pending))}</p>
!${points.owed > 0 ? html`<p class="meta">${m.pointsOwed(String(points.owed))}</p>` : ''}
<p class="meta">${m.pointsExpiry}</p>
<h3>${m.pointsHistory}</h3>
!${
    points.history.length
      ? html`<ul class="items points-history">!${points.history.map(
          (h) =>
            html`<li><span>${f.dateTime(h.at)}</span> · <span>${m.pointsEvent[h.type] ?? h.type}</span> · <strong>${signed(h.type === 'available' ? h.available : h.points)}</strong></li>`,
        )}</ul>`
      : html`<p>${m.noPointsHistory}</p>`
  }
</section>`;
}

export function subscriberSpacePage(shell: Shell, f: Formatter, view: SpaceView): string {
  const { m } = shell;
  return layout(
    shell,
    html`<h1>${m.meTitle}</h1>
!${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
!${view.error ? html`<div class="alert" role="alert"><p>${view.error}</p></div>` : ''}
<section class="card" aria-labelledby="budget">
<h2 id="budget">${m.budgetHeading}</h2>
<dl class="budget">
<div><dt>${m.leftThisWeek}</dt><dd>${f.money(view.budget.weekly.remaining)}</dd><dd class="meta">${m.budgetLeftOf(f.money(view.budget.weekly.limit))} · ${m.weekResets(f.weekday(view.weekResets))}</dd></div>
<div><dt>${m.leftThisMonth}</dt><dd>${f.money(view.budget.monthly.remaining)}</dd><dd class="meta">${m.budgetLeftOf(f.money(view.budget.monthly.limit))} · ${m.monthResets(f.weekday(view.monthResets))}</dd></div>
</dl>
<p class="meta">${m.perPurchaseLimit(f.money(view.budget.perPurchase))}</p>
!${view.hasChildren ? html`<p><a href="/me/children">${m.parentSpaceLink}</a></p>` : ''}
</section>
!${view.points ? pointsSection(m, f, view.points) : ''}
<section class="card" aria-labelledby="subscriptions"><h2 id="subscriptions">${m.subscriptionsHeading}</h2>!${subscriptionList(m, f, view.subscriptions, view.csrf)}</section>
<section class="card" aria-labelledby="purchases"><h2 id="purchases">${m.purchasesHeading}</h2>!${purchaseList(m, f, view.purchases, { csrf: view.csrf }, new Set(view.invoices.map((i) => i.id)))}</section>
<section class="card" aria-labelledby="disputes"><h2 id="disputes">${m.disputesHeading}</h2>!${disputeList(m, f, view.disputes)}</section>
<section class="card" aria-labelledby="invoices"><h2 id="invoices">${m.invoicesHeading}</h2>!${invoiceList(m, f, view.invoices)}</section>`,
  );
}
