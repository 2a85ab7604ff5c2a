import type { Agent } from '../types.ts';
import { sharedDispatcher } from '../upstream/dispatcher.ts';
import { hostOf, joinUrl, resolveTimeouts, upstreamLabel } from '../upstream/options.ts';
import { withPings } from '../upstream/pings.ts';
import { probe } from '../upstream/probe.ts';
import { authHeaders, type DifyContext } from './context.ts';
import type { DifyAgentOptions } from './options.ts';
import { runDifyTurn } from './turn.ts';

/**
 * An agent backed by a Dify chat app (Service API). Dify keeps the conversation itself: the
 * caller stores the `upstream_conversation` id and passes it back as
 * `turn.upstreamConversationId`; history is not resent.
 */
export function createDifyAgent(options: DifyAgentOptions): Agent {
  const id = options.id ?? 'dify';
  const ctx: DifyContext = {
    up: {
      label: upstreamLabel('Dify', options.baseUrl),
      secrets: [options.apiKey],
      timeouts: resolveTimeouts(options.timeouts),
      dispatcher: options.dispatcher ?? sharedDispatcher(),
    },
    agentId: id,
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    inputs: options.inputs ?? {},
  };
  return {
    info: { id, type: 'dify', description: options.description ?? describe(options.baseUrl) },
    // Dify keeps the conversation upstream (`upstreamConversationId`): no history is sent.
    historyBudgetChars: 0,
    run: (turn) => withPings(turn.signal, ctx.up.timeouts.pingIntervalMs, (signal) => runDifyTurn(ctx, turn, signal)),
    checkReachable: () => probe(ctx.up, joinUrl(ctx.baseUrl, 'parameters'), authHeaders(ctx)),
  };
}

function describe(baseUrl: string): string {
  const host = hostOf(baseUrl);
  return host ? `Dify app at ${host}` : 'Dify app';
}
