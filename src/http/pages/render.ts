import type { Request, RequestHandler, Response } from 'express';
import { formatterFor, type Formatter } from './format.js';
import { messagesFor, pageLang, type Lang } from './i18n.js';
import { switchHrefOf, type Shell } from './layout.js';
import type { Messages } from './messages/fr.js';

/** What every page handler needs to speak the visitor's language. */
export interface PageKit {
  lang: Lang;
  m: Messages;
  f: Formatter;
  shell(title: string, brand: string | null): Shell;
}

export function pageKit(req: Request, res: Response): PageKit {
  const lang = pageLang(req, res);
  res.set('Content-Language', lang);
  res.vary('Accept-Language');
  const m = messagesFor(lang);
  // A form's answer has no GET twin at its address, so it offers no switch of language.
  const switchHref = req.method === 'GET' ? switchHrefOf(req.originalUrl, m.otherLang) : null;
  return { lang, m, f: formatterFor(lang), shell: (title, brand) => ({ m, title, brand, switchHref }) };
}

export function sendHtml(res: Response, status: number, body: string): void {
  res.status(status).type('html').send(body);
}

/**
 * The Content-Security-Policy of a page: its own stylesheet and nothing else
 * loaded, no script at all, forms posted to itself (and to `formTargets`, where
 * a form's answer redirects), never framed.
 */
export function setPageCsp(res: Response, formTargets: string[] = []): void {
  const formAction = ["'self'", ...formTargets].join(' ');
  res.set(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  );
}

/** Pages for people may not be framed (clickjacking), cached, or load anything from another site. */
export const pageHeaders: RequestHandler = (_req, res, next) => {
  setPageCsp(res);
  res.set('X-Frame-Options', 'DENY');
  res.set('Cache-Control', 'no-store');
  next();
};
