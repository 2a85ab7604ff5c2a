import type { Upstream } from '../upstream/options.ts';

/** What every Dify call needs, resolved once per agent. */
export interface DifyContext {
  up: Upstream;
  agentId: string;
  baseUrl: string;
  apiKey: string;
  inputs: Record<string, unknown>;
}

export function authHeaders(ctx: DifyContext): Record<string, string> {
  return { Authorization: `Bearer ${ctx.apiKey}` };
}
