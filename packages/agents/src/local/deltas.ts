const words = new Intl.Segmenter('en', { granularity: 'word' });
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

export const DELTA_CHARS = 12;

/**
 * Splits an answer into small stream deltas of about DELTA_CHARS, on word boundaries where
 * possible and never inside a grapheme (so never inside a surrogate pair).
 */
export function splitDeltas(text: string): string[] {
  const deltas: string[] = [];
  let current = '';
  for (const { segment } of words.segment(text)) {
    const pieces = segment.length > DELTA_CHARS ? graphemeRuns(segment) : [segment];
    for (const piece of pieces) {
      if (current !== '' && current.length + piece.length > DELTA_CHARS) {
        deltas.push(current);
        current = '';
      }
      current += piece;
    }
  }
  if (current !== '') deltas.push(current);
  return deltas;
}

function graphemeRuns(segment: string): string[] {
  const runs: string[] = [];
  let run = '';
  for (const { segment: g } of graphemes.segment(segment)) {
    if (run !== '' && run.length + g.length > DELTA_CHARS) {
      runs.push(run);
      run = '';
    }
    run += g;
  }
  if (run !== '') runs.push(run);
  return runs;
}
