import escapeHtml from 'escape-html';

/** Recorded with each confirmation made on this page, as consent evidence. */
export const CONSENT_PAGE_VERSION = 'consent-page-2026-11-25';

export interface ConsentView {
  operatorBrand: string;
  publisherName: string;
  description: string;
  price: string;
  /** e.g. "per month" for subscriptions; empty for one-off purchases. */
  cadence: string;
  weeklyRemaining: string;
  monthlyRemaining: string;
  confirmAction: string;
  csrfToken: string;
}

const STYLE = `
  *{box-sizing:border-box}body{margin:0;font:16px/1.4 system-ui,-apple-system,sans-serif;background:#f4f5f7;color:#1a1a1a}
  main{max-width:420px;margin:0 auto;padding:16px}
  header{display:flex;justify-content:space-between;align-items:center;font-weight:600;margin-bottom:12px}
  .card{background:#fff;border-radius:12px;padding:20px;box-shadow:0 1px 3px rgba(0,0,0,.1)}
  .price{font-size:2rem;font-weight:700;margin:8px 0}
  .muted{color:#555;font-size:.9rem}
  dl{display:grid;grid-template-columns:1fr auto;gap:4px 12px;margin:16px 0}dd{margin:0;text-align:right}
  button{width:100%;padding:14px;font-size:1.1rem;border:0;border-radius:8px;background:#0b5fff;color:#fff}
  a{color:#0b5fff}`;

function layout(title: string, operatorBrand: string, content: string): string {
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body><main>
<header><span class="operator">${escapeHtml(operatorBrand)}</span><span class="kiosque">Kiosque</span></header>
${content}
</main></body>
</html>`;
}

export function consentPage(view: ConsentView): string {
  return layout(
    `Confirm: ${view.description}`,
    view.operatorBrand,
    `<section class="card">
<p class="muted">${escapeHtml(view.publisherName)}</p>
<h1>${escapeHtml(view.description)}</h1>
<p class="price">${escapeHtml(view.price)} €${view.cadence ? ` <small>${escapeHtml(view.cadence)}</small>` : ''}</p>
<p class="muted">Billed on your ${escapeHtml(view.operatorBrand)} invoice.</p>
<dl>
<dt>Left this week</dt><dd>${escapeHtml(view.weeklyRemaining)} €</dd>
<dt>Left this month</dt><dd>${escapeHtml(view.monthlyRemaining)} €</dd>
</dl>
<form method="post" action="${escapeHtml(view.confirmAction)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrfToken)}">
<button type="submit">Confirm and pay ${escapeHtml(view.price)} €</button>
</form>
</section>`,
  );
}

export function messagePage(operatorBrand: string, title: string, message: string, link?: { href: string; label: string }): string {
  return layout(
    title,
    operatorBrand,
    `<section class="card"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${
      link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : ''
    }</section>`,
  );
}
