import type { AgentHistoryMessage } from '../types.ts';

/**
 * The most recent messages whose contents fit in `budgetChars`, oldest dropped first. A
 * leading assistant message is dropped too: many chat templates require user-first turns.
 * System messages (instructions a client sent along) are always kept, first, and count
 * against the budget before the others.
 */
export function trimHistory(history: readonly AgentHistoryMessage[], budgetChars: number): AgentHistoryMessage[] {
  const system = history.filter((m) => m.role === 'system');
  const dialogue = history.filter((m) => m.role !== 'system');
  let used = system.reduce((n, m) => n + m.content.length, 0);
  let start = dialogue.length;
  for (let i = dialogue.length - 1; i >= 0; i--) {
    const length = dialogue[i]!.content.length;
    if (used + length > budgetChars) break;
    used += length;
    start = i;
  }
  const kept = dialogue.slice(start);
  while (kept[0]?.role === 'assistant') kept.shift();
  return [...system, ...kept];
}
