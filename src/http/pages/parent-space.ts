import { html } from 'ghtml';
import type { Budget } from '../../domain/ceilings.js';
import { CATEGORIES } from '../../domain/categories.js';
import type { Decimal } from '../../shared/money.js';
import type { Formatter } from './format.js';
import { layout, type Shell } from './layout.js';
import type { Messages } from './messages/fr.js';
import { purchaseList, type PurchaseItem } from './subscriber-space.js';

export interface ChildForm {
  blocked: boolean;
  blockedCategories: readonly string[];
  /** May the child spend the household's Kiosque Points? */
  pointsAllowed: boolean;
  /** As typed, or the child's own limit; empty means the operator's. */
  weekly: string;
  monthly: string;
}

export interface ChildView {
  ref: string;
  name: string;
  form: ChildForm;
  /** The controls in force, which the form may not show after a refused save. */
  saved: Pick<ChildForm, 'blocked' | 'blockedCategories'>;
  /** Effective limits, VAT included. */
  weeklyInForce: Decimal;
  monthlyInForce: Decimal;
  errors: { weekly?: string; monthly?: string };
  /** What the child has spent this week and this month, against its limits in force. */
  budget: Budget;
  purchases: PurchaseItem[];
}

export interface ParentView {
  operatorWeekly: string;
  operatorMonthly: string;
  children: ChildView[];
  notice: string | null;
  error: string | null;
  csrf: string;
}

function limitField(
  id: string,
  name: 'weekly' | 'monthly',
  label: string,
  hint: string,
  value: string,
  error: string | undefined,
): string {
  return html`<label for="${id}">${label}</label>
<span class="hint" id="${id}-hint">${hint}</span>
!${error ? html`<span class="error" id="${id}-error">${error}</span>` : ''}
<input type="text" inputmode="decimal" autocomplete="off" id="${id}" name="${name}" value="${value}" aria-describedby="${id}-hint${error ? ` ${id}-error` : ''}"!${error ? ' aria-invalid="true"' : ''}>`;
}

/** Blocked, allowed, or allowed but for some categories: never "allowed" alone while a category is blocked. */
function childState(m: Messages, form: Pick<ChildForm, 'blocked' | 'blockedCategories'>): string {
  if (form.blocked) return html`<strong>${m.childState.blocked}</strong>`;
  if (!form.blockedCategories.length) return html`${m.childState.open}`;
  return html`<strong>${m.childState.openExcept(form.blockedCategories.map((c) => m.category[c] ?? c).join(', '))}</strong>`;
}

export function parentSpacePage(shell: Shell, f: Formatter, view: ParentView): string {
  const { m } = shell;
  const children = view.children.map((child, index) => {
    const id = `child-${index}`;
    return html`<section class="card" id="${id}" aria-labelledby="${id}-name">
<h2 id="${id}-name">${child.name}</h2>
<p class="meta">!${childState(m, child.saved)}</p>
<h3 class="spent" id="${id}-spent">${m.childSpent}</h3>
<dl class="budget" aria-labelledby="${id}-spent">
<div><dt>${m.spentThisWeek}</dt><dd>${f.money(child.budget.weekly.spent)}</dd><dd class="meta">${m.spentOf(f.money(child.weeklyInForce))}</dd></div>
<div><dt>${m.spentThisMonth}</dt><dd>${f.money(child.budget.monthly.spent)}</dd><dd class="meta">${m.spentOf(f.money(child.monthlyInForce))}</dd></div>
</dl>
<form method="post" action="/me/children/${encodeURIComponent(child.ref)}/controls">
<input type="hidden" name="csrf" value="${view.csrf}">
<label class="check"><input type="checkbox" name="blocked" value="on"!${child.form.blocked ? ' checked' : ''}> ${m.childBlocked}</label>
<fieldset><legend>${m.blockedCategories}</legend>
!${CATEGORIES.map(
      (c) =>
        html`<label class="check"><input type="checkbox" name="categories" value="${c}"!${child.form.blockedCategories.includes(c) ? ' checked' : ''}> ${m.category[c] ?? c}</label>`,
    )}
</fieldset>
!${limitField(`${id}-weekly`, 'weekly', m.weeklyLimit, m.limitHint(f.money(view.operatorWeekly)), child.form.weekly, child.errors.weekly)}
!${limitField(`${id}-monthly`, 'monthly', m.monthlyLimit, m.limitHint(f.money(view.operatorMonthly)), child.form.monthly, child.errors.monthly)}
<label class="check"><input type="checkbox" name="pointsAllowed" value="on"!${child.form.pointsAllowed ? ' checked' : ''}> ${m.childPointsAllowed}</label>
<p><button type="submit">${m.saveControls}<span class="visually-hidden"> (${child.name})</span></button></p>
</form>
<h3>${m.childPurchases}</h3>
!${purchaseList(m, f, child.purchases, null, new Set())}
</section>`;
  });
  return layout(
    shell,
    html`<h1>${m.childrenTitle}</h1>
!${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
!${view.error ? html`<div class="alert" role="alert"><p>${view.error}</p></div>` : ''}
<p>${m.childrenIntro}</p>
!${children.length ? children : html`<p class="card">${m.noChildren}</p>`}
<p class="space-link"><a href="/me">${m.meTitle}</a></p>`,
  );
}
