import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Router } from 'express';

const CSS = readFileSync(new URL('./kiosque.css', import.meta.url), 'utf8');
const CSS_HASH = createHash('sha256').update(CSS).digest('hex').slice(0, 12);

/** The pages' one stylesheet, served by the gateway itself; its name changes with its content, so it caches for good. */
export const STYLESHEET_PATH = `/assets/kiosque-${CSS_HASH}.css`;

export function assetRoutes(): Router {
  const router = Router();
  router.get(STYLESHEET_PATH, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=31536000, immutable');
    res.type('text/css').send(CSS);
  });
  return router;
}
