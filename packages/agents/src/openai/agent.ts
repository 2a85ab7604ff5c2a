import type { Agent } from '../types.ts';
import { sharedDispatcher } from '../upstream/dispatcher.ts';
import { hostOf, joinUrl, resolveTimeouts, upstreamLabel } from '../upstream/options.ts';
import { withPings } from '../upstream/pings.ts';
import { probe } from '../upstream/probe.ts';
import { authHeaders, type OpenAIContext } from './context.ts';
import type { OpenAIAgentOptions } from './options.ts';
import { runOpenAITurn } from './turn.ts';

export const DEFAULT_HISTORY_BUDGET_CHARS = 24_000;
export const DEFAULT_FILE_TEXT_BUDGET_CHARS = 32_000;

/**
 * An agent backed by any OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama,
 * llama.cpp, LM Studio). The server keeps no state: every turn sends the history and file text.
 */
export function createOpenAIAgent(options: OpenAIAgentOptions): Agent {
  const id = options.id ?? 'openai';
  const ctx: OpenAIContext = {
    up: {
      label: upstreamLabel('OpenAI-compatible server', options.baseUrl),
      secrets: options.apiKey ? [options.apiKey] : [],
      timeouts: resolveTimeouts(options.timeouts),
      dispatcher: options.dispatcher ?? sharedDispatcher(),
    },
    baseUrl: options.baseUrl,
    apiKey: options.apiKey || undefined,
    model: options.model,
    budget: {
      systemPrompt: options.systemPrompt,
      historyBudgetChars: Math.max(0, options.historyBudgetChars ?? DEFAULT_HISTORY_BUDGET_CHARS),
      fileTextBudgetChars: Math.max(0, options.fileTextBudgetChars ?? DEFAULT_FILE_TEXT_BUDGET_CHARS),
    },
  };
  return {
    info: { id, type: 'openai', description: options.description ?? describe(options.model, options.baseUrl) },
    historyBudgetChars: ctx.budget.historyBudgetChars,
    run: (turn) => withPings(turn.signal, ctx.up.timeouts.pingIntervalMs, (signal) => runOpenAITurn(ctx, turn, signal)),
    checkReachable: () => probe(ctx.up, joinUrl(ctx.baseUrl, 'models'), authHeaders(ctx)),
  };
}

function describe(model: string, baseUrl: string): string {
  const host = hostOf(baseUrl);
  return host ? `${model} at ${host}` : model;
}
