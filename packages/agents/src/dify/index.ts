export { createDifyAgent } from './agent.ts';
export type { DifyAgentOptions } from './options.ts';
