import type { StreamEvent } from '@colloquy/api';
import { isTrackedEnvelope } from '@trpc/server';
import { Router, type Request, type Response } from 'express';
import { sendError } from '../http/error-envelope.ts';
import type { CallerFor } from './caller.ts';
import { bodyOf, FieldError, optionalString, userOf } from './request-fields.ts';
import { restHandler } from './rest-handler.ts';
import { toBlockingResponse } from './schemas.ts';

const FAILED = '对话请求出错';

export interface ConverseRouteOptions {
  defaultResponseMode: 'blocking' | 'streaming';
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

      const started = await callerFor(req).chat.send(input);
      await streamNdjson(req, res, callerFor, started.messageId, input.user);
    }),
  );
  return r;
}

/**
 * One JSON object per line, written as each event arrives. A client that goes away stops only
 * its own reading: the turn goes on and is stored.
 */
async function streamNdjson(req: Request, res: Response, callerFor: CallerFor, messageId: string, user: string | undefined) {
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  const events = await callerFor(req, controller.signal).chat.events({ messageId, user });
  res.status(200);
  res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  for await (const item of events) {
    const event = untrack(item);
    if (!res.write(`${JSON.stringify(event)}\n`)) {
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
    if (controller.signal.aborted) break;
  }
  res.end();
}

/** A server-side caller yields tRPC's tracked envelopes; the event is their data. */
function untrack(item: unknown): StreamEvent {
  if (isTrackedEnvelope(item)) return item[1] as StreamEvent;
  return item as StreamEvent;
}
