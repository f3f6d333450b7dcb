/**
 * Cursor pagination over time-ordered ids, newest first: fetch one more row
 * than asked to learn whether a next page exists without counting.
 */
export function page<T extends { id: string }>(rows: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? last.id : null };
}
