import { Router } from 'express';
import type { CallerFor } from './caller.ts';
import { parseRest } from './parse-rest.ts';
import { restHandler } from './rest-handler.ts';
import { stopConverseRequest, type StopConverseResponse } from './schemas.ts';

const FAILED = '停止失败';

/** `POST /stop_converse {"message_id"}`: cancels a running generation (the upstream call too). */
export function stopRoute(callerFor: CallerFor): Router {
  const r = Router();
  r.post(
    '/stop_converse',
    restHandler(FAILED, async (req, res) => {
      const q = parseRest(stopConverseRequest, req);
      const result = await callerFor(req).chat.stop({ messageId: q.message_id, user: q.user });
      res.json({ message: '已停止', message_id: result.messageId, status: result.status } satisfies StopConverseResponse);
    }),
  );
  return r;
}
