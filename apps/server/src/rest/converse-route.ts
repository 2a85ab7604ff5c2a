import { converseDirect } from '@colloquy/api';
import { Router, type Request, type Response } from 'express';
import { sendError } from '../http/error-envelope.ts';
import type { CallerFor, ContextFor } from './caller.ts';
import { StreamedAnswer } from '../http/streamed-answer.ts';
import { ndjsonFormat } from './ndjson-format.ts';
import { parseRest } from './parse-rest.ts';
import { restHandler } from './rest-handler.ts';
import { converseRequest, toBlockingResponse } from './schemas.ts';

const FAILED = '对话请求出错';

export interface ConverseRouteOptions {
  defaultResponseMode: 'blocking' | 'streaming';
  /** The router context of a request: blocking turns call `chat.converse`'s body directly (converseDirect). */
  contextFor: ContextFor;
  /** Holds one of the caller's open-stream slots for the response; false after answering 429. */
  holdStream(req: Request, res: Response, message: string): boolean;
}

export function converseRoute(callerFor: CallerFor, options: ConverseRouteOptions): Router {
  const r = Router();
  r.post(
    '/converse',
    restHandler(FAILED, async (req, res) => {
      const q = parseRest(converseRequest, req);
      const mode = q.response_mode ?? options.defaultResponseMode;
      const input = {
        query: q.query,
        user: q.user,
        conversationId: q.conversation_id,
        // As the seed sends them (ids or upload paths) or as Dify does (`{upload_file_id}`).
        files: q.files?.map((f) => (typeof f === 'string' ? f : f.upload_file_id)),
        agent: q.agent ?? q.agent_id,
        managerId: q.manager_id,
      };

      if (mode === 'blocking') {
        const a = await converseDirect(options.contextFor(req), input);
        if (a.status === 'error') {
          sendError(res, 500, FAILED, a.error ?? 'the agent failed');
          return;
        }
        // Dify's blocking response shape.
        res.json(toBlockingResponse(a));
        return;
      }

      // Counted before the turn starts: a refused stream starts nothing.
      if (!options.holdStream(req, res, FAILED)) return;
      const answer = new StreamedAnswer(req, res, FAILED, ndjsonFormat);
      // One caller (one router context) for both calls. No signal: the answer ends the events
      // with `return()` when the client goes away.
      const caller = callerFor(req);
      const started = await caller.chat.send(input);
      const events = await caller.chat.events({ messageId: started.messageId, user: input.user });
      // The stream outlives this handler, and nothing calls `next` once it runs: Express keeps
      // its routing closures (every router's `next`, `done` and `restore`, ~1.4 KB) reachable
      // through `req.next` for as long as the request lives, so let them go now.
      req.next = undefined;
      // Not awaited: the handler (its input, the request's contexts) is done with once the
      // stream runs, and the stream answers its own failures.
      answer.start(events);
    }),
  );
  return r;
}
