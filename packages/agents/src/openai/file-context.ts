import type { AgentFile } from '../types.ts';

const TRUNCATED = '\n[… truncated]';

/**
 * The files' extracted text for the system message, each labelled by its name, within
 * `budgetChars` of text in all: small files are kept whole and the rest share what is left.
 * Files are listed in the given order (the turn's own files first); null when there are none.
 */
export function fileContext(files: readonly AgentFile[], budgetChars: number): string | null {
  const unique = [...new Map(files.map((f) => [f.id, f])).values()];
  if (unique.length === 0) return null;
  const allowed = fairShares(
    unique.map((f) => f.text.length),
    budgetChars,
  );
  const documents = unique.map((file, i) => {
    const limit = allowed[i]!;
    const body =
      file.text.length === 0
        ? '(no text could be extracted from this file)'
        : file.text.length <= limit
          ? file.text
          : `${file.text.slice(0, limit)}${TRUNCATED}`;
    return `<document name="${file.name.replace(/"/g, "'")}">\n${body}\n</document>`;
  });
  return `The user shared these documents; use them when they help to answer.\n\n${documents.join('\n\n')}`;
}

/** Per-item allowances summing to at most `budget`: shortest first, each up to an equal share of what is left. */
function fairShares(lengths: readonly number[], budget: number): number[] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]!);
  const shares = lengths.map(() => 0);
  let remaining = Math.max(0, budget);
  order.forEach((index, position) => {
    const share = Math.min(lengths[index]!, Math.floor(remaining / (order.length - position)));
    shares[index] = share;
    remaining -= share;
  });
  return shares;
}
