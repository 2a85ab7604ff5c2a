import { Router } from 'express';
import { sendError } from '../http/error-envelope.ts';
import type { CallerFor } from './caller.ts';
import { optionalString, userOf } from './request-fields.ts';
import { restHandler } from './rest-handler.ts';
import type { StopConverseResponse } from './schemas.ts';

const FAILED = '停止失败';

/** `POST /stop_converse {"message_id"}`: cancels a running generation (the upstream call too). */
export function stopRoute(callerFor: CallerFor): Router {
  const r = Router();
  r.post(
    '/stop_converse',
    restHandler(FAILED, async (req, res) => {
      const messageId = optionalString(req, 'message_id');
      if (messageId === undefined) {
        sendError(res, 400, FAILED, 'message_id is required');
        return;
      }
      const result = await callerFor(req).chat.stop({ messageId, user: userOf(req) });
      res.json({ message: '已停止', message_id: result.messageId, status: result.status } satisfies StopConverseResponse);
    }),
  );
  return r;
}
