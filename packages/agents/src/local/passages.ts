import type { AgentFile } from '../types.ts';

export interface Passage {
  fileId: string | null;
  fileName: string;
  text: string;
}

export const MAX_PASSAGE_CHARS = 400;
// A short paragraph without closing punctuation is usually a heading: it is joined to the next
// paragraph so a hit on the heading quotes the content under it too.
const MAX_HEADING_CHARS = 80;
const SENTENCE_END = /[.!?:;。！？：；…]["'”’)）]*$/u;

const sentences = new Intl.Segmenter('en', { granularity: 'sentence' });
const words = new Intl.Segmenter('en', { granularity: 'word' });
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Paragraph passages of every file, long paragraphs chunked on sentence boundaries. */
export function splitPassages(files: readonly AgentFile[]): Passage[] {
  const passages: Passage[] = [];
  for (const file of files) {
    for (const text of paragraphs(file.text).flatMap(chunk)) {
      passages.push({ fileId: file.id, fileName: file.name, text });
    }
  }
  return passages;
}

function paragraphs(text: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const block of text.split(/\n[ \t]*\n/)) {
    const paragraph = block
      .split('\n')
      .map((line) => line.replace(/\s+/g, ' ').trim())
      .filter((line) => line !== '')
      .join('\n');
    if (paragraph === '') continue;
    pending = pending === '' ? paragraph : `${pending}\n${paragraph}`;
    if (!isHeading(paragraph)) {
      out.push(pending);
      pending = '';
    }
  }
  if (pending !== '') out.push(pending);
  return out;
}

function isHeading(paragraph: string): boolean {
  return paragraph.length <= MAX_HEADING_CHARS && !paragraph.includes('\n') && !SENTENCE_END.test(paragraph);
}

function chunk(paragraph: string): string[] {
  if (paragraph.length <= MAX_PASSAGE_CHARS) return [paragraph];
  const pieces = segments(sentences, paragraph).flatMap((sentence) =>
    sentence.length <= MAX_PASSAGE_CHARS ? [sentence] : splitLong(sentence),
  );
  return pack(pieces);
}

function splitLong(sentence: string): string[] {
  const pieces = segments(words, sentence).flatMap((word) =>
    word.length <= MAX_PASSAGE_CHARS ? [word] : segments(graphemes, word),
  );
  return pack(pieces);
}

/** Greedily joins consecutive pieces into chunks of at most MAX_PASSAGE_CHARS. */
function pack(pieces: string[]): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const piece of pieces) {
    if (current !== '' && current.length + piece.length > MAX_PASSAGE_CHARS) {
      chunks.push(current.trim());
      current = '';
    }
    current += piece;
  }
  if (current.trim() !== '') chunks.push(current.trim());
  return chunks.filter((c) => c !== '');
}

function segments(segmenter: Intl.Segmenter, text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}
