import MiniSearch from 'minisearch';
import type { Passage } from './passages.ts';
import { hasCjk, processTerm, tokenize } from './tokenize.ts';

export interface ScoredPassage extends Passage {
  score: number;
}

/** The `limit` best passages for `query` (score > 0), best first; ties keep document order. */
export function searchPassages(passages: readonly Passage[], query: string, limit: number): ScoredPassage[] {
  if (passages.length === 0 || limit <= 0) return [];
  const index = new MiniSearch<{ id: number; text: string }>({
    fields: ['text'],
    tokenize,
    processTerm,
    searchOptions: {
      // Prefix/fuzzy on very short Latin terms matches nearly anything ("ca" -> "car", "cat"
      // -> "car"), so they are limited to terms long enough to carry meaning.
      prefix: (term) => hasCjk(term) || term.length >= 3,
      fuzzy: (term) => (!hasCjk(term) && term.length >= 5 ? 0.2 : false),
      combineWith: 'OR',
    },
  });
  index.addAll(passages.map((p, id) => ({ id, text: p.text })));
  return index
    .search(query)
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score || (a.id as number) - (b.id as number))
    .slice(0, limit)
    .map((r) => ({ ...passages[r.id as number]!, score: r.score }));
}
