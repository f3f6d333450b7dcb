import type { RequestHandler } from 'express';

/**
 * Every API answer is about its caller (budgets, purchases with consent IP and
 * user agent, invoices, keys): no browser, proxy or CDN may keep a copy.
 */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};
