import type { Conversation } from '@colloquy/api';
import { Router } from 'express';
import type { CallerFor } from './caller.ts';
import { sendError } from '../http/error-envelope.ts';
import { optionalString, unixSeconds, userOf } from './request-fields.ts';
import { restHandler } from './rest-handler.ts';

/** A conversation in Dify's list shape, plus our own fields. */
const toDifyConversation = (c: Conversation) => ({
  id: c.id,
  name: c.name,
  inputs: {},
  status: 'normal',
  introduction: '',
  created_at: unixSeconds(c.createdAt),
  updated_at: unixSeconds(c.updatedAt),
  user: c.userId,
  agent_id: c.agentId,
  manager_id: c.managerId,
});

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
      res.json({ limit, has_more: page.nextCursor !== null, data: page.items.map(toDifyConversation) });
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
      res.json({ message: '对话删除成功' });
    }),
  );

  return r;
}
