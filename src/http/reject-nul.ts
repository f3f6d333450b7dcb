import type { RequestHandler } from 'express';
import { AppError } from '../domain/errors.js';

/**
 * No document of the API nests deeper than a few levels. A 16 kB body can nest
 * thousands deep, and any recursive walk over it (ours, JSON.stringify,
 * a validator) would overflow the stack: such a body is refused first.
 */
export const MAX_JSON_DEPTH = 32;

type Finding = 'nul' | 'too_deep' | null;

/** One iterative walk (an explicit stack, never recursion) looking for U+0000 and excessive depth. */
function inspect(root: unknown): Finding {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return 'nul';
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return 'too_deep';
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\u0000')) return 'nul';
      stack.push({ value: child, depth: depth + 1 });
    }
  }
  return null;
}

/**
 * PostgreSQL text cannot hold U+0000: a NUL anywhere in the path, query or body
 * would fail deep in a query as a 500. Refuse it up front as bad input, and
 * refuse bodies nested beyond MAX_JSON_DEPTH before anything recurses into them.
 */
export const rejectNul: RequestHandler = (req, _res, next) => {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    throw new AppError('invalid_request', 'The path is not valid percent-encoding', { path: 'malformed' });
  }
  const finding = path.includes('\u0000') ? 'nul' : (inspect(req.query) ?? inspect(req.body));
  if (finding === 'too_deep') {
    throw new AppError('invalid_request', `JSON nested deeper than ${MAX_JSON_DEPTH} levels is not accepted`, {
      body: `at most ${MAX_JSON_DEPTH} levels deep`,
    });
  }
  if (finding === 'nul') {
    throw new AppError('invalid_request', 'NUL characters are not accepted', { fields: { input: 'contains U+0000' } });
  }
  next();
};
