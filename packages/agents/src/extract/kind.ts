import { essenceOf, fileExtension, guessMimeType } from '../mime.ts';

export type TextKind = 'plain' | 'markdown' | 'csv' | 'tsv' | 'json' | 'html';

const KIND_BY_MIME: Readonly<Record<string, TextKind>> = {
  'text/plain': 'plain',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/tab-separated-values': 'tsv',
  'application/json': 'json',
  'text/json': 'json',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
};

/**
 * Which extractor applies. The extension wins over the declared mime type because uploads by
 * path often arrive with a generic `application/octet-stream`.
 */
export function textKindOf(name: string, mimeType: string): TextKind | null {
  const byName = guessMimeType(name);
  const fromName = KIND_BY_MIME[byName];
  if (fromName) return fromName;
  // A known non-text extension (.png, .pdf, ...) is not text whatever the declared type says.
  if (fileExtension(name) !== '' && byName !== 'application/octet-stream') return null;
  const essence = essenceOf(mimeType);
  const fromMime = KIND_BY_MIME[essence];
  if (fromMime) return fromMime;
  return essence.startsWith('text/') ? 'plain' : null;
}
