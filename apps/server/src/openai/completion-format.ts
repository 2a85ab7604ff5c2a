import type { StreamEvent } from '@colloquy/api';
import type { StreamFormat } from '../http/streamed-answer.ts';
import type { ChatCompletionChunk } from './schemas.ts';

export interface CompletionStream {
  /** `chatcmpl-<message id>`: every chunk of one answer shares it. */
  id: string;
  model: string;
  created: number;
  conversationId: string;
  messageId: string;
  /** `stream_options.include_usage`: `usage: null` on every chunk, then a last one with usage and no choices. */
  includeUsage: boolean;
}

const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

/**
 * A turn's events as OpenAI chat completion chunks (`text/event-stream`): a first chunk with the
 * assistant role, one per answer delta, one with `finish_reason`, the usage chunk when asked,
 * then `data: [DONE]`. An agent failure is an `{error}` event (the OpenAI client throws it).
 * Events OpenAI has no word for (thoughts, files, a moderation replacement) are not sent; the
 * stored answer has them.
 */
export function completionFormat(s: CompletionStream): StreamFormat {
  let failed = false;
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: 'stop' | null): string =>
    sse({
      id: s.id,
      object: 'chat.completion.chunk',
      created: s.created,
      model: s.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(s.includeUsage ? { usage: null } : {}),
      system_fingerprint: null,
      conversation_id: s.conversationId,
      message_id: s.messageId,
    } satisfies ChatCompletionChunk);
  const end = (event: Extract<StreamEvent, { event: 'message_end' }>): string => {
    // A stream whose live events had expired is one message_end carrying the whole answer.
    let out = event.answer ? chunk({ content: event.answer }, null) : '';
    out += chunk({}, 'stop');
    if (s.includeUsage) {
      const u = event.metadata.usage;
      out += sse({
        id: s.id,
        object: 'chat.completion.chunk',
        created: s.created,
        model: s.model,
        choices: [],
        usage: { prompt_tokens: u?.prompt_tokens ?? 0, completion_tokens: u?.completion_tokens ?? 0, total_tokens: u?.total_tokens ?? 0 },
        system_fingerprint: null,
        conversation_id: s.conversationId,
        message_id: s.messageId,
      } satisfies ChatCompletionChunk);
    }
    return out;
  };
  return {
    contentType: 'text/event-stream; charset=utf-8',
    begin: () => chunk({ role: 'assistant', content: '' }, null),
    serialize(event) {
      if (failed) return undefined;
      switch (event.event) {
        case 'message':
          return chunk({ content: event.answer }, null);
        case 'message_end':
          return end(event);
        case 'error':
          failed = true;
          return sse({ error: { message: event.message, type: 'server_error', param: null, code: event.code } });
        case 'ping':
          return ': ping\n\n';
        default:
          return undefined;
      }
    },
    end: () => 'data: [DONE]\n\n',
    failure: (detail) => sse({ error: { message: detail, type: 'server_error', param: null, code: null } }),
    keepAlive: { intervalMs: 15_000, text: ': ping\n\n' },
  };
}
