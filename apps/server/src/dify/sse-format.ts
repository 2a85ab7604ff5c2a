import type { StreamEvent } from '@colloquy/api';
import type { StreamFormat } from '../http/streamed-answer.ts';

const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

/** Dify's keep-alive: an SSE event of its own, no data. */
const PING = 'event: ping\n\n';

/**
 * A turn's events in Dify's streaming shape (`text/event-stream`, `data: {"event": …}`): the
 * answer's message id is also its `task_id` (stop it with /v1/chat-messages/{task_id}/stop) and
 * its `id`. A stream whose live events had expired is one `message` with the whole answer, then
 * `message_end`.
 */
export function difySseFormat(): StreamFormat {
  return {
    contentType: 'text/event-stream; charset=utf-8',
    serialize: serializeDifyEvent,
    failure: (detail) => sse({ event: 'error', status: 500, code: 'internal_server_error', message: detail }),
    keepAlive: { intervalMs: 10_000, text: PING },
  };
}

function serializeDifyEvent(e: StreamEvent): string {
  const ids = { task_id: e.message_id, message_id: e.message_id, conversation_id: e.conversation_id };
  switch (e.event) {
    case 'message':
      return sse({ event: 'message', ...ids, id: e.message_id, answer: e.answer, created_at: e.created_at });
    case 'message_replace':
      return sse({ event: 'message_replace', ...ids, answer: e.answer, created_at: e.created_at });
    case 'agent_thought':
      return sse({
        event: 'agent_thought',
        id: `${e.message_id}-${e.id}`,
        ...ids,
        position: Number(e.id),
        thought: e.thought,
        observation: '',
        tool: e.tool ?? '',
        tool_input: '',
        message_files: [],
        created_at: e.created_at,
      });
    case 'message_file':
      return sse({ event: 'message_file', id: e.file_id, type: e.type ?? 'document', belongs_to: 'assistant', url: e.url ?? '', conversation_id: e.conversation_id });
    case 'error':
      return sse({ event: 'error', ...ids, status: e.status, code: e.code, message: e.message });
    case 'ping':
      return PING;
    case 'message_end': {
      const whole = e.answer ? sse({ event: 'message', ...ids, id: e.message_id, answer: e.answer, created_at: e.created_at }) : '';
      return `${whole}${sse({ event: 'message_end', ...ids, id: e.message_id, status: e.status, metadata: e.metadata, created_at: e.created_at })}`;
    }
  }
}
