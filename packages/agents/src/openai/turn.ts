import { throwIfAborted } from '../abort.ts';
import type { AgentEvent, AgentTurn, AgentUsage } from '../types.ts';
import { UpstreamError } from '../upstream/errors.ts';
import { openUpstream, type UpstreamRequest } from '../upstream/open.ts';
import { joinUrl } from '../upstream/options.ts';
import { readSse } from '../upstream/sse.ts';
import { parseChunk } from './chunks.ts';
import { authHeaders, type OpenAIContext } from './context.ts';
import { buildMessages } from './messages.ts';

/** One turn against POST /chat/completions with `stream: true`. */
export async function* runOpenAITurn(ctx: OpenAIContext, turn: AgentTurn, signal: AbortSignal): AsyncGenerator<AgentEvent> {
  throwIfAborted(signal);
  const opened = await openUpstream(ctx.up, chatRequest(ctx, turn), signal);

  let usage: AgentUsage | undefined;
  let complete = false;
  for await (const message of readSse(ctx.up, opened, signal)) {
    if (message.data.trim() === '[DONE]') {
      complete = true;
      break;
    }
    const chunk = parseChunk(message.data);
    if (!chunk) continue;
    if (chunk.error) {
      const { message: detail, code } = chunk.error;
      throw new UpstreamError(`${ctx.up.label} reported an error${code ? ` (${code})` : ''}: ${detail}`, {
        code: code ?? 'stream_error',
        secrets: ctx.up.secrets,
      });
    }
    if (chunk.content) yield { event: 'message', answer: chunk.content };
    if (chunk.usage) usage = chunk.usage;
    // Some compatible servers end the stream after finish_reason without `[DONE]`.
    if (chunk.finished) complete = true;
  }
  if (!complete) {
    throw new UpstreamError(`${ctx.up.label} ended the stream before the answer was complete`, {
      code: 'incomplete_stream',
      secrets: ctx.up.secrets,
    });
  }
  yield { event: 'message_end', ...(usage ? { usage } : {}), citations: [] };
}

/**
 * The request of a turn. Built outside the generator, so the request object and its messages
 * are not kept in the generator's frame for as long as the answer streams.
 */
function chatRequest(ctx: OpenAIContext, turn: AgentTurn): UpstreamRequest {
  const body = {
    model: ctx.model,
    messages: buildMessages(turn, ctx.budget),
    stream: true,
    stream_options: { include_usage: true },
  };
  return {
    url: joinUrl(ctx.baseUrl, 'chat/completions'),
    method: 'POST',
    headers: { ...authHeaders(ctx), 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify(body),
  };
}
