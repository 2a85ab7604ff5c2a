import { createDifyAgent, createLocalAgent, createOpenAIAgent, type Agent } from '@colloquy/agents';
import type { AgentConfig, UpstreamDefaults } from './agents-config.ts';

/** Instantiates the configured agents; per-agent timeouts override the server-wide defaults. */
export function buildAgents(configs: AgentConfig[], defaults: { upstream: UpstreamDefaults; localDeltaDelayMs: number }): Agent[] {
  return configs.map((c) => {
    switch (c.type) {
      case 'local':
        return createLocalAgent({ id: c.id, deltaDelayMs: c.deltaDelayMs ?? defaults.localDeltaDelayMs });
      case 'dify':
        return createDifyAgent({
          id: c.id,
          baseUrl: c.baseUrl,
          apiKey: c.apiKey,
          inputs: c.inputs,
          description: c.description,
          timeouts: { ...defaults.upstream, ...c.timeouts },
        });
      case 'openai':
        return createOpenAIAgent({
          id: c.id,
          baseUrl: c.baseUrl,
          apiKey: c.apiKey,
          model: c.model,
          systemPrompt: c.systemPrompt,
          historyBudgetChars: c.historyBudgetChars,
          fileTextBudgetChars: c.fileTextBudgetChars,
          description: c.description,
          timeouts: { ...defaults.upstream, ...c.timeouts },
        });
    }
  });
}
