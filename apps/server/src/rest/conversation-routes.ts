import { Router } from 'express';
import type { z } from 'zod';
import type { CallerFor } from './caller.ts';
import { parseRest } from './parse-rest.ts';
import { restHandler } from './rest-handler.ts';
import {
  conversationListRequest,
  deleteConvRequest,
  toDifyConversation,
  type conversationListSchema,
  type deleteConvResponseSchema,
} from './schemas.ts';

export function conversationRoutes(callerFor: CallerFor): Router {
  const r = Router();

  r.get(
    '/get_conversation_list',
    restHandler('获取对话列表失败', async (req, res) => {
      const q = parseRest(conversationListRequest, req);
      const limit = q.limit ?? 20;
      const page = await callerFor(req).conversations.list({ user: q.user, limit, lastId: q.last_id, managerId: q.manager_id });
      res.json({
        limit,
        has_more: page.nextCursor !== null,
        data: page.items.map(toDifyConversation),
      } satisfies z.infer<typeof conversationListSchema>);
    }),
  );

  r.delete(
    '/delete_conv',
    restHandler('对话删除失败', async (req, res) => {
      const q = parseRest(deleteConvRequest, req);
      await callerFor(req).conversations.delete({ id: q.conversation_id, user: q.user });
      res.json({ message: '对话删除成功' } satisfies z.infer<typeof deleteConvResponseSchema>);
    }),
  );

  return r;
}
