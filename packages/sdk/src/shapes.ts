/**
 * Wire → public shapes (see types.ts): ISO times become epoch ms, stream events camelCase with
 * `usage` and `citations` as in `Answer`. Every converter is checked against the public type.
 */
import type { AppRouter, ClientEvent as WireClientEvent, StreamEvent as WireStreamEvent } from '@colloquy/api';
import type { inferRouterOutputs } from '@trpc/server';
import type {
  Answer,
  Citation,
  ClientEvent,
  ClientInfo,
  ClientList,
  Conversation,
  FileInfo,
  Message,
  Page,
  StreamEvent,
  Usage,
} from './types.ts';

type Out = inferRouterOutputs<AppRouter>;

const ms = (iso: string): number => Date.parse(iso);

export const toConversation = (w: Out['conversations']['get']): Conversation => ({ ...w, createdAt: ms(w.createdAt), updatedAt: ms(w.updatedAt) });
export const toMessage = (w: Out['messages']['list']['items'][number]): Message => ({ ...w, createdAt: ms(w.createdAt), updatedAt: ms(w.updatedAt) });
export const toFile = (w: Out['files']['get']): FileInfo => ({ ...w, createdAt: ms(w.createdAt) });
export const toAnswer = (w: Out['chat']['converse']): Answer => ({ ...w, createdAt: ms(w.createdAt) });
export const toClient = (w: Out['clients']['list']['clients'][number]): ClientInfo => ({
  ...w,
  connectedAt: ms(w.connectedAt),
  lastSeen: ms(w.lastSeen),
});
export const toClientList = (w: Out['clients']['list']): ClientList => ({ ...w, clients: w.clients.map(toClient) });

export function toPage<W, T>(page: { items: W[]; nextCursor: string | null }, item: (w: W) => T): Page<T> {
  return { items: page.items.map(item), nextCursor: page.nextCursor };
}

export function toClientEvent(w: WireClientEvent): ClientEvent {
  switch (w.type) {
    case 'snapshot':
      return { type: 'snapshot', clients: w.clients.map(toClient) };
    case 'left':
      return { type: 'left', client: toClient(w.client), reason: w.reason };
    default:
      return { type: w.type, client: toClient(w.client) };
  }
}

type WireEnd = Extract<WireStreamEvent, { event: 'message_end' }>;

export function toUsage(u: WireEnd['metadata']['usage']): Usage | null {
  return u && { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, totalTokens: u.total_tokens };
}

export function toCitations(resources: WireEnd['metadata']['retriever_resources']): Citation[] {
  return resources.map((r) => ({ fileId: r.document_id, fileName: r.document_name, passage: r.content, score: r.score }));
}

export function toStreamEvent(w: WireStreamEvent): StreamEvent {
  const envelope = { id: w.id, conversationId: w.conversation_id, messageId: w.message_id, createdAt: w.created_at * 1000 };
  switch (w.event) {
    case 'message':
      return { event: 'message', ...envelope, answer: w.answer };
    case 'message_replace':
      return { event: 'message_replace', ...envelope, answer: w.answer };
    case 'agent_thought':
      return { event: 'agent_thought', ...envelope, thought: w.thought, ...(w.tool !== undefined ? { tool: w.tool } : {}) };
    case 'message_file':
      return {
        event: 'message_file',
        ...envelope,
        fileId: w.file_id,
        ...(w.url !== undefined ? { url: w.url } : {}),
        ...(w.type !== undefined ? { type: w.type } : {}),
      };
    case 'error':
      return { event: 'error', ...envelope, code: w.code, message: w.message, status: w.status };
    case 'ping':
      return { event: 'ping', ...envelope };
    case 'message_end':
      return {
        event: 'message_end',
        ...envelope,
        status: w.status,
        usage: toUsage(w.metadata.usage),
        citations: toCitations(w.metadata.retriever_resources),
        ...(w.answer !== undefined ? { answer: w.answer } : {}),
      };
  }
}
