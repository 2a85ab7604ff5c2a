import type { Citation, MessageRecord, Usage } from '@colloquy/store';
import type { StreamEvent } from '../schemas/stream-event.ts';

type EndMetadata = Extract<StreamEvent, { event: 'message_end' }>['metadata'];

/** Our usage and citations in Dify's `metadata` shape. */
export function toDifyMetadata(usage: Usage | null, citations: Citation[]): EndMetadata {
  return {
    usage: usage && {
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.totalTokens,
    },
    retriever_resources: citations.map((c, i) => ({
      position: i + 1,
      document_id: c.fileId,
      document_name: c.fileName,
      content: c.passage,
      score: c.score,
    })),
  };
}

/** One `message_end` that stands for a whole stored message, whole answer included. */
export function snapshotEvent(message: MessageRecord, id: number): StreamEvent {
  return {
    id: String(id),
    event: 'message_end',
    conversation_id: message.conversationId,
    message_id: message.id,
    created_at: Math.floor(message.updatedAt / 1000),
    status: message.status,
    metadata: toDifyMetadata(message.usage, message.citations),
    answer: message.content,
  };
}
