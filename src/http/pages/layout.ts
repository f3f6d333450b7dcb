import { html } from 'ghtml';
import { STYLESHEET_PATH } from './assets.js';
import type { Messages } from './messages/fr.js';
import { HELP_PATH, PRIVACY_PATH, TERMS_PATH } from './paths.js';

export interface Shell {
  m: Messages;
  title: string;
  /** The operator's brand, shown beside Kiosque's once we know who is visiting. */
  brand: string | null;
  /** This page in the other language; null where a GET of the same address would not show it (a form's answer). */
  switchHref: string | null;
}

/** Every page: its language, its one stylesheet, the operator's brand beside Kiosque's. `body` is HTML built by html``. */
export function layout(shell: Shell, body: string): string {
  const { m } = shell;
  return html`<!doctype html>
<html lang="${m.htmlLang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${shell.title} · ${m.kiosque}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<header class="brands">!${shell.brand ? html`<span class="operator">${shell.brand}</span><span class="sep" aria-hidden="true">+</span>` : ''}<span class="kiosque">${m.kiosque}</span></header>
<main>
!${body}
</main>
<footer>
<p>${m.footer}</p>
<nav aria-label="${m.footerLinks}" class="footer-links"><a href="${TERMS_PATH}">${m.termsLink}</a> <a href="${PRIVACY_PATH}">${m.privacyLink}</a> <a href="${HELP_PATH}">${shell.brand ? m.operatorHelpLink(shell.brand) : m.helpLink}</a></nav>
!${
    shell.switchHref
      ? html`<nav aria-label="${m.switchLanguage}"><a href="${shell.switchHref}" hreflang="${m.otherLang}" lang="${m.otherLang}">${m.otherLangName}</a></nav>`
      : ''
  }
</footer>
</body>
</html>`;
}

/** The address of this GET page in the other language, keeping its other query parameters. */
export function switchHrefOf(originalUrl: string, other: string): string {
  const url = new URL(originalUrl, 'http://placeholder');
  url.searchParams.delete('assertion');
  url.searchParams.set('lang', other);
  return url.pathname + url.search;
}

export interface MessageView {
  title: string;
  paragraphs: string[];
  links?: { href: string; label: string; primary?: boolean }[];
  alert?: boolean;
}

/** A page that only tells: a result, a refusal, an expiry. */
export function messagePage(shell: Shell, view: MessageView): string {
  return layout(
    shell,
    html`<section class="card${view.alert ? ' card-alert' : ''}">
<h1>${view.title}</h1>
!${view.paragraphs.map((p) => html`<p>${p}</p>`)}
!${(view.links ?? []).map((l) => html`<p><a class="${l.primary ? 'button' : 'link'}" href="${l.href}">${l.label}</a></p>`)}
</section>`,
  );
}
