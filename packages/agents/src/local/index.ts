export { createLocalAgent, type LocalAgentOptions } from './agent.ts';
