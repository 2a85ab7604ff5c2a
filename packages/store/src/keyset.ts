import type { ExpressionBuilder, ReferenceExpression } from 'kysely';

/**
 * The one keyset-pagination predicate: the rows after `anchor` in an order that is descending on
 * every key, i.e. `(k1 < v1) OR (k1 = v1 AND k2 < v2) OR …`. Each page of a list sorted on these
 * keys goes on exactly where the last one ended, without OFFSET (so it stays as fast on page
 * 1000 as on page 1, and rows added meanwhile never shift it).
 */
export function afterDescending<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  anchor: ReadonlyArray<readonly [ReferenceExpression<DB, TB>, unknown]>,
) {
  return eb.or(
    anchor.map((_, i) =>
      eb.and([...anchor.slice(0, i).map(([key, value]) => eb(key, '=', value as never)), eb(anchor[i]![0], '<', anchor[i]![1] as never)]),
    ),
  );
}
