import { delimitedToText } from './extract/csv.ts';
import { htmlToText } from './extract/html.ts';
import { jsonToText } from './extract/json.ts';
import { textKindOf } from './extract/kind.ts';
import { markdownToText } from './extract/markdown.ts';

export { guessMimeType } from './mime.ts';

export interface ExtractInput {
  name: string;
  mimeType: string;
  data: Buffer;
}

/** Whether `extractText` can get text out of a file of this name and type. */
export function isTextExtractable(name: string, mimeType: string): boolean {
  return textKindOf(name, mimeType) !== null;
}

/** Plain text of a file, for search; '' for types without an extractor. Never throws. */
export function extractText(input: ExtractInput): string {
  try {
    const kind = textKindOf(input.name, input.mimeType);
    if (kind === null || looksBinary(input.data)) return '';
    const raw = decodeUtf8(input.data);
    switch (kind) {
      case 'plain':
        return raw.trim();
      case 'markdown':
        return markdownToText(raw).trim();
      case 'csv':
        return delimitedToText(raw, ',');
      case 'tsv':
        return delimitedToText(raw, '\t');
      case 'json':
        return (jsonToText(raw) ?? raw).trim();
      case 'html':
        return htmlToText(raw).trim();
    }
  } catch {
    return '';
  }
}

function decodeUtf8(data: Buffer): string {
  // TextDecoder strips a leading BOM; invalid bytes become U+FFFD instead of throwing.
  return new TextDecoder('utf-8').decode(data).replace(/\r\n?/g, '\n');
}

// A NUL byte in the head means a binary file mislabelled as text (or UTF-16, which we skip).
function looksBinary(data: Buffer): boolean {
  return data.subarray(0, 8192).includes(0);
}
