import type { Request } from 'express';

/** The credential of an `Authorization: Bearer …` header, or null when there is none of that form. */
export function bearer(req: Request): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? (match[1] as string) : null;
}
