import { Router, type Request, type Response } from 'express';
import { sendError } from '../http/error-envelope.ts';
import type { CallerFor } from './caller.ts';
import { StreamedAnswer } from '../http/streamed-answer.ts';
import { ndjsonFormat } from './ndjson-format.ts';
import { bodyOf, FieldError, optionalString, userOf } from './request-fields.ts';
import { restHandler } from './rest-handler.ts';
import { toBlockingResponse } from './schemas.ts';

const FAILED = '对话请求出错';

export interface ConverseRouteOptions {
  defaultResponseMode: 'blocking' | 'streaming';
  /** Holds one of the caller's open-stream slots for the response; false after answering 429. */
  holdStream(req: Request, res: Response, message: string): boolean;
}

/** `files` as the seed sends them (ids or upload paths) or as Dify does (`{upload_file_id}`). */
function filesOf(req: Request): string[] | undefined {
  const files = bodyOf(req).files;
  if (files === undefined || files === null) return undefined;
  if (!Array.isArray(files)) throw new FieldError('files must be an array');
  return files.map((f, i) => {
    if (typeof f === 'string') return f;
    if (typeof f === 'object' && f !== null && typeof (f as { upload_file_id?: unknown }).upload_file_id === 'string') {
      return (f as { upload_file_id: string }).upload_file_id;
    }
    throw new FieldError(`files[${i}] must be a file id or path string`);
  });
}

export function converseRoute(callerFor: CallerFor, options: ConverseRouteOptions): Router {
  const r = Router();
  r.post(
    '/converse',
    restHandler(FAILED, async (req, res) => {
      const query = bodyOf(req).query;
      if (typeof query !== 'string' || query.trim() === '') {
        sendError(res, 400, '请提供查询内容', 'query is required');
        return;
      }
      const mode = optionalString(req, 'response_mode') ?? options.defaultResponseMode;
      if (mode !== 'blocking' && mode !== 'streaming') {
        throw new FieldError('response_mode must be "blocking" or "streaming"');
      }
      const input = {
        query,
        user: userOf(req),
        conversationId: optionalString(req, 'conversation_id'),
        files: filesOf(req),
        agent: optionalString(req, 'agent', 'agent_id'),
        managerId: optionalString(req, 'manager_id'),
      };

      if (mode === 'blocking') {
        const a = await callerFor(req).chat.converse(input);
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
      // One caller (one router context) for both calls; only `events` uses the signal.
      const caller = callerFor(req, answer.signal);
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
