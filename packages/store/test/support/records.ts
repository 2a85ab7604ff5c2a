import { randomUUID } from 'node:crypto';
import type { MessageRecord } from '../../src/index.ts';

/** A stored message of `conversationId` (alice's completed "hi" unless `over` says otherwise). */
export const messageRecord = (conversationId: string, over: Partial<MessageRecord> = {}): MessageRecord => ({
  id: randomUUID(),
  userId: 'alice',
  conversationId,
  role: 'user',
  content: 'hi',
  fileIds: [],
  status: 'complete',
  usage: null,
  citations: [],
  error: null,
  lastEventId: 0,
  createdAt: 1_000,
  updatedAt: 1_000,
  ...over,
});
