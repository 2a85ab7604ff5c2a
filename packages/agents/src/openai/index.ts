export { createOpenAIAgent } from './agent.ts';
export type { OpenAIAgentOptions } from './options.ts';
