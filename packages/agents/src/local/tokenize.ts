import { STOPWORDS } from './stopwords.ts';

// A fixed locale keeps segmentation independent of the host's default locale.
const words = new Intl.Segmenter('en', { granularity: 'word' });

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

export function hasCjk(text: string): boolean {
  return CJK.test(text);
}

/** Word-like segments, NFKC-normalised and lower-cased; works for text without spaces (CJK). */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const s of words.segment(text.normalize('NFKC'))) {
    if (s.isWordLike) tokens.push(s.segment.toLowerCase());
  }
  return tokens;
}

/** Index/query term filter: drops stopwords. */
export function processTerm(term: string): string | null {
  return STOPWORDS.has(term) ? null : term;
}

/** Token estimate: one token per word-like segment. */
export function countTokens(text: string): number {
  let n = 0;
  for (const s of words.segment(text)) if (s.isWordLike) n++;
  return n;
}
