import type { ConversationRecord, FileRecord, FileSummary, MessageRecord } from '@colloquy/store';
import { toIso } from './common.ts';
import type { Conversation, FileInfo, Message } from './records.ts';

/** Store records in the API's shape (the zod output schemas in ./records.ts). */
export const presentConversation = (c: ConversationRecord): Conversation => ({
  id: c.id,
  userId: c.userId,
  agentId: c.agentId,
  name: c.name,
  managerId: c.managerId,
  upstreamConversationId: c.upstreamId,
  inputs: c.inputs,
  createdAt: toIso(c.createdAt),
  updatedAt: toIso(c.updatedAt),
});

export const presentMessage = (m: MessageRecord): Message => ({
  id: m.id,
  conversationId: m.conversationId,
  role: m.role,
  content: m.content,
  fileIds: m.fileIds,
  status: m.status,
  usage: m.usage,
  citations: m.citations,
  error: m.error,
  createdAt: toIso(m.createdAt),
  updatedAt: toIso(m.updatedAt),
});

/** A stored file without its text (what every answer about files shows). */
export const summarizeFile = ({ text, ...rest }: FileRecord): FileSummary => ({ ...rest, hasText: text.length > 0 });

export const presentFile = (f: FileSummary): FileInfo => ({
  id: f.id,
  userId: f.userId,
  name: f.name,
  size: f.size,
  mimeType: f.mimeType,
  sha256: f.sha256,
  originKind: f.originKind,
  origin: f.origin,
  hasText: f.hasText,
  createdAt: toIso(f.createdAt),
});
