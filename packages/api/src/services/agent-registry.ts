import type { Agent } from '@colloquy/agents';
import { AppError } from '../errors/app-error.ts';

/** The configured agents by id, and which one a turn gets when it names none. */
export interface AgentRegistry {
  readonly defaultId: string;
  list(): Agent[];
  /** The agent with this id; a 400 naming the valid ids when there is none. */
  resolve(id: string | undefined): Agent;
  has(id: string): boolean;
}

export function createAgentRegistry(agents: Agent[], defaultId: string): AgentRegistry {
  const byId = new Map(agents.map((a) => [a.info.id, a]));
  if (!byId.has(defaultId)) {
    throw new Error(`DEFAULT_AGENT "${defaultId}" is not a configured agent (have: ${[...byId.keys()].join(', ')})`);
  }
  return {
    defaultId,
    list: () => [...byId.values()],
    has: (id) => byId.has(id),
    resolve(id) {
      const agent = byId.get(id ?? defaultId);
      if (!agent) {
        throw new AppError('BAD_REQUEST', `Unknown agent "${id}". Valid agents: ${[...byId.keys()].join(', ')}`);
      }
      return agent;
    },
  };
}
