/**
 * Keyset pages, decided once for every `list` procedure: ask the store for one row more than the
 * page holds (that row tells whether another page exists, without a COUNT), then cut the page
 * and make the cursor from its edge row.
 */

/** How many rows to ask the store for, for a page of `limit`. */
export const rowsFor = (limit: number): number => limit + 1;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * The page of `limit` items from `rows` (fetched with rowsFor). Forwards, rows come in page order
 * and the extra row is the last; backwards (a page read from its far end, still returned in
 * page order), the extra row is the first. The cursor is made from the row at the edge the next
 * page continues from; null when no row is left beyond it.
 */
export function toPage<R, T>(
  rows: readonly R[],
  limit: number,
  present: (row: R) => T,
  cursorAt: (edge: R) => string,
  direction: 'forwards' | 'backwards' = 'forwards',
): Page<T> {
  const more = rows.length > limit;
  const kept = direction === 'forwards' ? rows.slice(0, limit) : rows.slice(more ? rows.length - limit : 0);
  const edge = direction === 'forwards' ? kept.at(-1) : kept[0];
  return { items: kept.map(present), nextCursor: more && edge !== undefined ? cursorAt(edge) : null };
}
