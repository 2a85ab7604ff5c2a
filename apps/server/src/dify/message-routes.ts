import { toDifyMetadata, type Message } from '@colloquy/api';
import { Router } from 'express';
import { parseRequest } from '../http/parse-request.ts';
import type { CallerFor } from '../rest/caller.ts';
import { restHandler } from '../rest/rest-handler.ts';
import { toUnixSeconds } from '../rest/schemas.ts';
import { messagesQuerySchema, type DifyMessage, type messageListSchema } from './schemas.ts';
import type { z } from 'zod';

const FAILED = 'message list failed';

/**
 * Dify's messages are question-and-answer pairs named by the answer's id; the store keeps both
 * halves as messages. Pairs a page of them, oldest first: a user message opens a pair, the next
 * assistant message closes it (an answer whose question is on an earlier page gets an empty one).
 */
function pair(messages: Message[], inputs: Record<string, unknown>): DifyMessage[] {
  const out: DifyMessage[] = [];
  let question: Message | undefined;
  for (const m of messages) {
    if (m.role === 'user') {
      question = m;
      continue;
    }
    out.push({
      id: m.id,
      conversation_id: m.conversationId,
      inputs,
      query: question?.content ?? '',
      answer: m.content,
      message_files: (question?.fileIds ?? []).map((id) => ({ id, type: 'document', url: '', belongs_to: 'user' as const })),
      feedback: null,
      retriever_resources: toDifyMetadata(null, m.citations).retriever_resources,
      agent_thoughts: [],
      created_at: toUnixSeconds((question ?? m).createdAt),
      status: m.status,
      error: m.error,
    });
    question = undefined;
  }
  return out;
}

/** `GET /v1/messages`: a conversation's messages, newest page first (`first_id`, `limit`, `has_more`). */
export function messageRoutes(callerFor: CallerFor): Router {
  const r = Router();
  r.get(
    '/v1/messages',
    restHandler(FAILED, async (req, res) => {
      const q = parseRequest(messagesQuerySchema, req.query);
      const caller = callerFor(req);
      const conversation = await caller.conversations.get({ id: q.conversation_id, user: q.user });
      // A pair is two stored messages; before `first_id` (an answer) lies its own question too,
      // which is left out below. A page holds at most 100 stored messages: asking for more than
      // 49 pairs gets 49 or 50 and `has_more`, and the next page goes on from there.
      const page = await caller.messages.list({
        conversationId: conversation.id,
        user: q.user,
        limit: Math.min(100, 2 * q.limit + (q.first_id === undefined ? 0 : 1)),
        ...(q.first_id === undefined ? { fromEnd: true } : { beforeId: q.first_id }),
      });
      const items = [...page.items];
      while (items.at(-1)?.role === 'user') items.pop();
      const data = pair(items, conversation.inputs).slice(-q.limit);
      res.json({ limit: q.limit, has_more: page.nextCursor !== null, data } satisfies z.infer<typeof messageListSchema>);
    }),
  );
  return r;
}
