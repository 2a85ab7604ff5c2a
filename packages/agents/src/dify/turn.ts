import { throwIfAborted } from '../abort.ts';
import type { AgentEvent, AgentTurn } from '../types.ts';
import { UpstreamError } from '../upstream/errors.ts';
import { openUpstream, type OpenedResponse, type UpstreamRequest } from '../upstream/open.ts';
import { joinUrl } from '../upstream/options.ts';
import { readSse } from '../upstream/sse.ts';
import { authHeaders, type DifyContext } from './context.ts';
import { mapDifyEvent, newStreamState } from './events.ts';
import { difyFileRefs, type DifyFileRef } from './files.ts';
import { stopDifyTask } from './stop.ts';

/**
 * Said in the event stream (as an agent_thought, which every transport already forwards)
 * when Dify no longer knows the conversation and the turn continues in a new one.
 */
export const CONVERSATION_RESTARTED: AgentEvent = {
  event: 'agent_thought',
  thought:
    'The earlier Dify conversation no longer exists, so a new one was started; the agent does not remember the earlier messages.',
};

/** One turn against Dify's POST /chat-messages, always streaming. */
export async function* runDifyTurn(ctx: DifyContext, turn: AgentTurn, signal: AbortSignal): AsyncGenerator<AgentEvent> {
  throwIfAborted(signal);
  const files = await difyFileRefs(ctx, turn, signal);
  const state = newStreamState();
  let stopSent = false;
  // Runs synchronously on abort, so Dify hears about a stop even while we wait on the caller.
  const stop = (): void => {
    if (state.finished || stopSent || !state.taskId) return;
    stopSent = true;
    stopDifyTask(ctx, state.taskId, turn.userId);
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    let opened: OpenedResponse;
    try {
      opened = await openUpstream(ctx.up, chatRequest(ctx, turn, turn.upstreamConversationId ?? '', files), signal);
    } catch (err) {
      if (!turn.upstreamConversationId || !isConversationGone(err)) throw err;
      yield CONVERSATION_RESTARTED;
      opened = await openUpstream(ctx.up, chatRequest(ctx, turn, '', files), signal);
    }
    for await (const message of readSse(ctx.up, opened, signal)) {
      yield* mapDifyEvent(ctx, message, state);
      if (state.ended) return;
    }
    state.finished = true;
    throw new UpstreamError(`${ctx.up.label} ended the stream before the answer was complete`, {
      code: 'incomplete_stream',
      secrets: ctx.up.secrets,
    });
  } finally {
    signal.removeEventListener('abort', stop);
    // Leaving early (stopped, timed out, connection lost, caller gone) while Dify still works.
    stop();
  }
}

function chatRequest(ctx: DifyContext, turn: AgentTurn, conversationId: string, files: DifyFileRef[]): UpstreamRequest {
  return {
    url: joinUrl(ctx.baseUrl, 'chat-messages'),
    method: 'POST',
    headers: { ...authHeaders(ctx), 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify({
      // The conversation's own inputs over the agent's configured ones.
      inputs: { ...ctx.inputs, ...turn.inputs },
      query: turn.query,
      response_mode: 'streaming',
      conversation_id: conversationId,
      user: turn.userId,
      files,
    }),
  };
}

/** Dify's 404 `{"code": "not_found", "message": "Conversation Not Exists."}`. */
function isConversationGone(err: unknown): boolean {
  return err instanceof UpstreamError && err.status === 404 && /conversation (does )?not exists?/i.test(err.message);
}
