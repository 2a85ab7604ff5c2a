import type { AgentHistoryMessage } from '../types.ts';

/**
 * The most recent messages whose contents fit in `budgetChars`, oldest dropped first. A
 * leading assistant message is dropped too: many chat templates require user-first turns.
 */
export function trimHistory(history: readonly AgentHistoryMessage[], budgetChars: number): AgentHistoryMessage[] {
  let used = 0;
  let start = history.length;
  for (let i = history.length - 1; i >= 0; i--) {
    const length = history[i]!.content.length;
    if (used + length > budgetChars) break;
    used += length;
    start = i;
  }
  const kept = history.slice(start);
  while (kept[0]?.role === 'assistant') kept.shift();
  return kept;
}
