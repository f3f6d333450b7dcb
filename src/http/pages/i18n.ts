import type { Request, Response } from 'express';
import { en } from './messages/en.js';
import { fr, type Messages } from './messages/fr.js';

export const LANGS = ['fr', 'en'] as const;
export type Lang = (typeof LANGS)[number];

export const LANG_COOKIE = 'kiosque_lang';
const LANG_COOKIE_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

const CATALOGUES: Record<Lang, Messages> = { fr, en };

export function messagesFor(lang: Lang): Messages {
  return CATALOGUES[lang];
}

const isLang = (value: unknown): value is Lang =>
  typeof value === 'string' && (LANGS as readonly string[]).includes(value);

/** The first of our languages the browser ranks highest in Accept-Language, if any. */
export function fromAcceptLanguage(header: string | undefined): Lang | null {
  if (!header) return null;
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: tag.trim().toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.q > 0 && isLang(entry.lang))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  const best = ranked[0]?.lang;
  return isLang(best) ? best : null;
}

/**
 * The page's language: ?lang= (remembered in a cookie), else the cookie, else
 * what the browser asks for, else French: Kiosque's people are in France.
 */
export function pageLang(req: Request, res: Response): Lang {
  const asked = req.query.lang;
  if (isLang(asked)) {
    if (req.cookies?.[LANG_COOKIE] !== asked) {
      res.cookie(LANG_COOKIE, asked, { httpOnly: true, sameSite: 'lax', maxAge: LANG_COOKIE_MAX_AGE_MS, path: '/' });
    }
    return asked;
  }
  const remembered: unknown = req.cookies?.[LANG_COOKIE];
  if (isLang(remembered)) return remembered;
  return fromAcceptLanguage(req.get('accept-language')) ?? 'fr';
}
