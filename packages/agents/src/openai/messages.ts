import type { AgentTurn } from '../types.ts';
import { fileContext } from './file-context.ts';
import { trimHistory } from './history.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface MessageBudget {
  systemPrompt: string | undefined;
  historyBudgetChars: number;
  fileTextBudgetChars: number;
}

/** System message (instructions + file text), the trimmed history, then the query. */
export function buildMessages(turn: AgentTurn, budget: MessageBudget): ChatMessage[] {
  const files = fileContext([...turn.files, ...turn.conversationFiles], budget.fileTextBudgetChars);
  const system = [budget.systemPrompt?.trim(), files].filter((part): part is string => !!part).join('\n\n');
  return [
    ...(system ? [{ role: 'system' as const, content: system }] : []),
    ...trimHistory(turn.history, budget.historyBudgetChars),
    { role: 'user', content: turn.query },
  ];
}
