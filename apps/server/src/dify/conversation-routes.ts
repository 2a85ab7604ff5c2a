import { Router } from 'express';
import type { z } from 'zod';
import { parseRequest } from '../http/parse-request.ts';
import type { CallerFor } from '../rest/caller.ts';
import { restHandler } from '../rest/rest-handler.ts';
import { toDifyConversation, type conversationListSchema, type difyConversationSchema } from '../rest/schemas.ts';
import { conversationByIdBodySchema, conversationListQuerySchema, renameRequestSchema, type resultSchema } from './schemas.ts';

const FAILED = 'conversation request failed';

/** A user named in the body (POST/DELETE) or, for clients that send it there, the query string. */
const namedUser = (body: { user?: string }, query: unknown): string | undefined =>
  body.user ?? parseRequest(conversationByIdBodySchema, query).user;

/** Dify's `/v1/conversations` routes: list (`last_id`, `limit`, `has_more`), rename, delete. */
export function conversationRoutes(callerFor: CallerFor): Router {
  const r = Router();
  r.get(
    '/v1/conversations',
    restHandler(FAILED, async (req, res) => {
      const q = parseRequest(conversationListQuerySchema, req.query);
      if (q.pinned === 'true') {
        res.json({ limit: q.limit, has_more: false, data: [] } satisfies z.infer<typeof conversationListSchema>);
        return;
      }
      const page = await callerFor(req).conversations.list({ user: q.user, limit: q.limit, lastId: q.last_id ?? q.first_id });
      res.json({ limit: q.limit, has_more: page.nextCursor !== null, data: page.items.map(toDifyConversation) } satisfies z.infer<typeof conversationListSchema>);
    }),
  );
  r.delete(
    '/v1/conversations/:id',
    restHandler(FAILED, async (req, res) => {
      const body = parseRequest(conversationByIdBodySchema, req.body ?? {});
      await callerFor(req).conversations.delete({ id: String(req.params.id), user: namedUser(body, req.query) });
      res.json({ result: 'success' } satisfies z.infer<typeof resultSchema>);
    }),
  );
  r.post(
    '/v1/conversations/:id/name',
    restHandler(FAILED, async (req, res) => {
      const body = parseRequest(renameRequestSchema, req.body ?? {});
      const renamed = await callerFor(req).conversations.rename({
        id: String(req.params.id),
        user: namedUser(body, req.query),
        name: body.name,
        autoGenerate: body.auto_generate,
      });
      res.json(toDifyConversation(renamed) satisfies z.infer<typeof difyConversationSchema>);
    }),
  );
  return r;
}
