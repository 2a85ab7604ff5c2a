import { Router, type Request, type Response } from 'express';
import { sendError } from '../http/error-envelope.ts';
import { parseRequest } from '../http/parse-request.ts';
import { StreamedAnswer } from '../http/streamed-answer.ts';
import type { CallerFor } from '../rest/caller.ts';
import { httpStatusOf } from '@colloquy/api';
import { FieldError } from '../rest/request-fields.ts';
import { restHandler } from '../rest/rest-handler.ts';
import { toBlockingResponse } from '../rest/schemas.ts';
import { chatMessageRequestSchema, resultSchema, stopRequestSchema } from './schemas.ts';
import { difySseFormat } from './sse-format.ts';
import type { z } from 'zod';

/** The REST `message` of a failure (unused by Dify's error shape). */
const FAILED = 'chat message failed';

export interface ChatMessagesOptions {
  /** Holds one of the caller's open-stream slots for the response; false after answering 429. */
  holdStream(req: Request, res: Response, message: string): boolean;
}

type ChatMessageRequest = z.output<typeof chatMessageRequestSchema>;

/** Stored file ids from Dify's `files` (`local_file` with `upload_file_id`); remote URLs are refused. */
function filesOf(body: ChatMessageRequest): string[] | undefined {
  return body.files?.map((f, i) => {
    if (f.transfer_method === 'remote_url') {
      throw new FieldError('remote_url files are not supported: upload the file (POST /v1/files/upload) and send its upload_file_id', {
        param: `files[${i}].transfer_method`,
      });
    }
    if (f.upload_file_id === undefined) throw new FieldError('a local_file needs its upload_file_id', { param: `files[${i}].upload_file_id` });
    return f.upload_file_id;
  });
}

/** `X-Colloquy-Agent`: the agent an app's turns run on (Dify maps a key to one app). */
const agentOf = (req: Request): string | undefined => req.get('x-colloquy-agent')?.trim() || undefined;

/**
 * `POST /v1/chat-messages` (blocking and streaming) and `POST /v1/chat-messages/:task_id/stop`:
 * Dify's chat over a stored conversation turn. No `conversation_id` starts a new conversation;
 * one that does not exist is a 404, as in Dify.
 */
export function chatMessagesRoute(callerFor: CallerFor, options: ChatMessagesOptions): Router {
  const r = Router();
  r.post(
    '/v1/chat-messages',
    restHandler(FAILED, async (req, res) => {
      const body = parseRequest(chatMessageRequestSchema, req.body);
      const conversationId = body.conversation_id || undefined;
      const input = {
        query: body.query,
        user: body.user,
        conversationId,
        conversationMode: conversationId === undefined ? ('new' as const) : ('existing' as const),
        files: filesOf(body),
        agent: agentOf(req),
        inputs: body.inputs,
      };

      if (body.response_mode === 'blocking') {
        const a = await callerFor(req).chat.converse(input);
        if (a.status === 'error') {
          sendError(res, httpStatusOf('INTERNAL_SERVER_ERROR'), FAILED, a.error ?? 'the agent failed', { code: 'completion_request_error' });
          return;
        }
        res.json(toBlockingResponse(a));
        return;
      }

      // Counted before the turn starts: a refused stream starts nothing.
      if (!options.holdStream(req, res, FAILED)) return;
      const answer = new StreamedAnswer(req, res, FAILED, difySseFormat());
      // The client going away ends only its reading (the answer ends the events with
      // `return()`; no signal): the turn runs on and is stored.
      const caller = callerFor(req);
      const started = await caller.chat.send(input);
      const events = await caller.chat.events({ messageId: started.messageId, user: input.user });
      req.next = undefined;
      answer.start(events);
    }),
  );

  r.post(
    '/v1/chat-messages/:task_id/stop',
    restHandler(FAILED, async (req, res) => {
      const body = parseRequest(stopRequestSchema, req.body ?? {});
      await callerFor(req).chat.stop({ messageId: String(req.params.task_id), user: body.user });
      res.json({ result: 'success' } satisfies z.infer<typeof resultSchema>);
    }),
  );
  return r;
}
