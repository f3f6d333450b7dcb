import type { RequestHandler } from 'express';
import { AppError } from '../domain/errors.js';

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v));
  return false;
}

/**
 * PostgreSQL text cannot hold U+0000: a NUL anywhere in the path, query or body
 * would fail deep in a query as a 500. Refuse it up front as bad input.
 */
export const rejectNul: RequestHandler = (req, _res, next) => {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    throw new AppError('invalid_request', 'The path is not valid percent-encoding', { path: 'malformed' });
  }
  if (path.includes('\u0000') || containsNul(req.query) || containsNul(req.body)) {
    throw new AppError('invalid_request', 'NUL characters are not accepted', { fields: { input: 'contains U+0000' } });
  }
  next();
};
