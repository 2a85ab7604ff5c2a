import type { Upstream } from '../upstream/options.ts';
import type { MessageBudget } from './messages.ts';

/** What every call to an OpenAI-compatible server needs, resolved once per agent. */
export interface OpenAIContext {
  up: Upstream;
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  budget: MessageBudget;
}

export function authHeaders(ctx: OpenAIContext): Record<string, string> {
  return ctx.apiKey ? { Authorization: `Bearer ${ctx.apiKey}` } : {};
}
