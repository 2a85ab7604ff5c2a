import { Router } from 'express';
import type { z } from 'zod';
import type { CallerFor } from './caller.ts';
import { sendError } from '../http/error-envelope.ts';
import { optionalString, userOf } from './request-fields.ts';
import { restHandler } from './rest-handler.ts';
import { toDifyConversation, type conversationListSchema, type deleteConvResponseSchema } from './schemas.ts';

export function conversationRoutes(callerFor: CallerFor): Router {
  const r = Router();

  r.get(
    '/get_conversation_list',
    restHandler('获取对话列表失败', async (req, res) => {
      const limitRaw = optionalString(req, 'limit');
      const limit = limitRaw === undefined ? 20 : Number(limitRaw);
      const page = await callerFor(req).conversations.list({
        user: userOf(req),
        limit,
        lastId: optionalString(req, 'last_id'),
        managerId: optionalString(req, 'manager_id'),
      });
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
      const id = optionalString(req, 'conversation_id');
      if (id === undefined) {
        sendError(res, 400, '对话删除失败', 'conversation_id is required');
        return;
      }
      await callerFor(req).conversations.delete({ id, user: userOf(req) });
      res.json({ message: '对话删除成功' } satisfies z.infer<typeof deleteConvResponseSchema>);
    }),
  );

  return r;
}
