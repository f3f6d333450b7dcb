import { html } from 'ghtml';
import type { Budget } from '../domain/ceilings.js';
import type { Forecast } from '../domain/charge-forecast.js';
import type { PointsOffer } from '../domain/household-points.js';
import type { Plan } from '../shared/catalogue.js';
import type { Formatter } from './pages/format.js';
import { layout, type Shell } from './pages/layout.js';
import type { Messages } from './pages/messages/fr.js';

/** Recorded with each confirmation made on this page, as consent evidence. */
export const CONSENT_PAGE_VERSION = 'consent-page-2026-11-30';

export interface ConsentView {
  publisherName: string;
  legalName: string | null;
  supportUrl: string | null;
  description: string;
  /** VAT included. */
  price: string;
  /** For a subscription: its plan and when it would renew if confirmed now. */
  subscription: { plan: Plan; nextRenewal: Date } | null;
  budget: Budget;
  /** The decline a confirmation would certainly meet now: then no pay button. */
  forecast: Forecast | null;
  /** Kiosque Points the household may pay part or all of this purchase with; null when none. */
  points: PointsOffer | null;
  /** Above a limit in euros but not with the points: only the points choice is offered. */
  pointsOnly: boolean;
  returnUrl: string | null;
  confirmAction: string;
  csrfToken: string;
  meHref: string;
}

/** The sentence that tells a person why they cannot pay: which limit, how much is left, when it resets. */
export function forecastSentence(m: Messages, f: Formatter, forecast: Forecast, price: string): string {
  switch (forecast.code) {
    case 'publisher_suspended':
    case 'account_blocked':
      return m.forecast[forecast.code];
    case 'category_blocked':
      return m.forecast.category_blocked(m.category[forecast.category] ?? forecast.category);
    case 'per_purchase_limit':
      return m.forecast.per_purchase_limit(f.money(price), f.money(forecast.limit));
    case 'weekly_ceiling':
      return m.forecast.weekly_ceiling(
        f.money(forecast.remaining),
        f.money(price),
        f.money(forecast.limit),
        f.weekday(forecast.resetsAt),
      );
    case 'monthly_ceiling':
      return m.forecast.monthly_ceiling(
        f.money(forecast.remaining),
        f.money(price),
        f.money(forecast.limit),
        f.weekday(forecast.resetsAt),
      );
  }
}

/** A budget says nothing useful, and seems to promise a purchase, when the account or the seller is what stops it. */
function showsBudget(forecast: Forecast | null): boolean {
  return (
    forecast === null ||
    forecast.code === 'per_purchase_limit' ||
    forecast.code === 'weekly_ceiling' ||
    forecast.code === 'monthly_ceiling'
  );
}

/** `text` as HTML with `phrase` in it never broken across lines ("par trimestre"). */
function keepTogether(text: string, phrase: string): string {
  const at = text.lastIndexOf(phrase);
  if (at < 0) return html`${text}`;
  return html`${text.slice(0, at)}<span class="period">${phrase}</span>${text.slice(at + phrase.length)}`;
}

/** The second choice: the points part and the euro part, both shown on the button itself before the click. */
function pointsButton(m: Messages, f: Formatter, offer: PointsOffer): string {
  const points = String(offer.points);
  const label = offer.euros.isZero()
    ? m.payAllWithPoints(points, f.money(offer.pointsValue))
    : m.payWithPoints(f.money(offer.euros), points, f.money(offer.pointsValue));
  return html`<button type="submit" class="secondary" name="points" value="${points}">${label}</button>`;
}

export function consentPage(shell: Shell, f: Formatter, view: ConsentView): string {
  const { m } = shell;
  const price = f.money(view.price);
  const period = view.subscription ? m.period[view.subscription.plan] : null;
  const subscriptionTerms = view.subscription
    ? html`<ul class="terms">
<li>${m.renewsByItself(m.everyPeriod[view.subscription.plan])}</li>
<li>${m.nextRenewal} <strong>${f.date(view.subscription.nextRenewal)}</strong></li>
<li>${m.howToCancel}</li>
</ul>`
    : '';
  const action = view.forecast
    ? html`<div class="alert" role="alert">
<h2>${view.subscription ? m.cannotSubscribeTitle : m.cannotBuyTitle}</h2>
<p>${forecastSentence(m, f, view.forecast, view.price)}</p>
<p>${m.nothingCharged}</p>
!${view.returnUrl ? html`<p><a class="button secondary" href="${view.returnUrl}">${m.backTo(view.publisherName)}</a></p>` : ''}
</div>`
    : html`<form method="post" action="${view.confirmAction}">
<input type="hidden" name="csrf" value="${view.csrfToken}">
!${view.points ? html`<p class="points">${m.consentPoints(String(view.points.available), f.money(view.points.availableValue))}</p>` : ''}
!${view.pointsOnly ? '' : html`<button type="submit">!${period ? keepTogether(m.subscribeButton(price, period), period) : html`${m.payButton(price)}`}</button>`}
!${view.points ? pointsButton(m, f, view.points) : ''}
</form>
!${view.returnUrl ? html`<p class="back"><a href="${view.returnUrl}">${m.cancelAndBack(view.publisherName)}</a></p>` : ''}`;
  return layout(
    shell,
    html`<section class="card" aria-labelledby="offer">
<p class="publisher">${view.publisherName}</p>
<h1 id="offer">${view.description}</h1>
<p class="price">${price} <span class="ttc">${m.vatIncluded}</span>!${period ? html` <span class="period">${period}</span>` : ''}</p>
<p class="muted">${m.billedOn(shell.brand ?? m.kiosque)}</p>
!${subscriptionTerms}
!${
      showsBudget(view.forecast)
        ? html`<dl class="budget" aria-label="${m.budgetHeading}">
<div><dt>${m.leftThisWeek}</dt><dd>${f.money(view.budget.weekly.remaining)}</dd></div>
<div><dt>${m.leftThisMonth}</dt><dd>${f.money(view.budget.monthly.remaining)}</dd></div>
</dl>`
        : ''
    }
!${action}
<p class="seller">!${view.legalName ? html`${m.soldBy(view.legalName)}` : ''}!${
      view.supportUrl
        ? html`!${view.legalName ? ' · ' : ''}<a href="${view.supportUrl}" rel="noopener">${m.publisherSupport}</a>`
        : ''
    }</p>
</section>
<p class="space-link"><a href="${view.meHref}">${m.meLink}</a></p>`,
  );
}
