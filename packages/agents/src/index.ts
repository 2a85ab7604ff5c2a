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
export { createDifyAgent, type DifyAgentOptions } from './dify/index.ts';
export { createOpenAIAgent, type OpenAIAgentOptions } from './openai/index.ts';
export { UpstreamError } from './upstream/errors.ts';
export type { UpstreamTimeouts } from './upstream/options.ts';
export { extractText, guessMimeType, isTextExtractable, type ExtractInput } from './extract-text.ts';
