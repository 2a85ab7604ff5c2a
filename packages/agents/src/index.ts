export type {
  Agent,
  AgentCitation,
  AgentEvent,
  AgentFile,
  AgentHistoryMessage,
  AgentInfo,
  AgentTurn,
  AgentUsage,
} from './types.ts';
export { createLocalAgent, type LocalAgentOptions } from './local/index.ts';
export { extractText, guessMimeType, isTextExtractable, type ExtractInput } from './extract-text.ts';
