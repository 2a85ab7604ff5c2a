import type { AgentFile } from '../types.ts';
import { MESSAGES, type Language } from './messages.ts';
import type { ScoredPassage } from './search.ts';

/** The extractive answer: a lead line naming the sources, then each passage quoted. */
export function composeAnswer(language: Language, hits: readonly ScoredPassage[]): string {
  const names = unique(hits.map((h) => h.fileName));
  const quotes = hits.map((hit, i) => {
    const quoted = hit.text
      .split('\n')
      .map((line) => `> ${line}`)
      .join('\n');
    return `[${i + 1}] ${hit.fileName}\n${quoted}`;
  });
  return [MESSAGES[language].found(names, hits.length), ...quotes].join('\n\n');
}

/** Why nothing could be quoted, and how to add documents. */
export function composeNoAnswer(language: Language, files: readonly AgentFile[], hasText: boolean): string {
  const m = MESSAGES[language];
  const names = unique(files.map((f) => f.name));
  const reason = files.length === 0 ? m.noFiles() : hasText ? m.nothingRelevant(names) : m.noText(names);
  return `${reason}\n\n${m.howToAdd()}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
