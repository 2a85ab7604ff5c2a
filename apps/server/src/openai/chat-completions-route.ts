import { AppError, type Answer } from '@colloquy/api';
import { Router, type Request, type Response } from 'express';
import { sendError } from '../http/error-envelope.ts';
import { parseRequest } from '../http/parse-request.ts';
import { StreamedAnswer } from '../http/streamed-answer.ts';
import type { CallerFor } from '../rest/caller.ts';
import { httpStatusOf } from '@colloquy/api';
import { DetailedError } from '../rest/procedure-error.ts';
import { FieldError } from '../rest/request-fields.ts';
import { restHandler } from '../rest/rest-handler.ts';
import { completionFormat } from './completion-format.ts';
import { chatCompletionRequestSchema, UNSUPPORTED_ARGUMENTS, type ChatCompletion, type ChatCompletionRequest } from './schemas.ts';

/** The REST `message` of a failure (unused by OpenAI's error shape, which says `error` only). */
const FAILED = 'chat completion failed';

export interface ChatCompletionsOptions {
  /** Holds one of the caller's open-stream slots for the response; false after answering 429. */
  holdStream(req: Request, res: Response, message: string): boolean;
}

type ChatMessage = ChatCompletionRequest['messages'][number];

const textOf = (content: ChatMessage['content']): string =>
  content == null ? '' : typeof content === 'string' ? content : content.map((p) => p.text).join('');

/** The conversation a request continues: `X-Colloquy-Conversation`, else `metadata.conversation_id`. */
function conversationOf(req: Request, body: ChatCompletionRequest): string | undefined {
  const header = req.get('x-colloquy-conversation')?.trim();
  return header || body.metadata?.conversation_id || undefined;
}

/** The turn a request asks for: the last (user) message is the query, the ones before it the history. */
function turnOf(req: Request, body: ChatCompletionRequest) {
  const last = body.messages.at(-1)!;
  if (last.role !== 'user') {
    throw new FieldError(`the last message must be the user's question, not a ${last.role} message`, { param: `messages[${body.messages.length - 1}].role` });
  }
  const query = textOf(last.content);
  if (query.trim() === '') throw new FieldError('the last user message has no text', { param: `messages[${body.messages.length - 1}].content` });
  const conversationId = conversationOf(req, body);
  return {
    query,
    user: body.user,
    agent: body.model,
    // No id: a new conversation (never the user's latest); an id: that one, created if new.
    conversationId,
    conversationMode: conversationId === undefined ? ('new' as const) : ('auto' as const),
    history: body.messages.slice(0, -1).flatMap((m) => {
      const content = textOf(m.content);
      if (content === '') return [];
      return [{ role: m.role === 'developer' ? ('system' as const) : m.role, content }];
    }),
  };
}

/** Known arguments this server does not support: a 400 naming the argument (never ignored). */
function refuseUnsupported(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  for (const [name, why] of Object.entries(UNSUPPORTED_ARGUMENTS)) {
    const value = (body as Record<string, unknown>)[name];
    if (value !== undefined && value !== null) throw new FieldError(why, { param: name, code: 'unsupported_parameter' });
  }
}

const toUsage = (a: Answer) => ({
  prompt_tokens: a.usage?.promptTokens ?? 0,
  completion_tokens: a.usage?.completionTokens ?? 0,
  total_tokens: a.usage?.totalTokens ?? 0,
});

/** `POST /v1/chat/completions`: OpenAI's Chat Completions over a stored conversation turn. */
export function chatCompletionsRoute(callerFor: CallerFor, options: ChatCompletionsOptions): Router {
  const r = Router();
  r.post(
    '/v1/chat/completions',
    restHandler(FAILED, async (req, res) => {
      refuseUnsupported(req.body);
      // A body that is not JSON (or not sent as JSON) reads as undefined: a 400 saying so.
      const body = parseRequest(chatCompletionRequestSchema, req.body);
      const turn = turnOf(req, body);
      const caller = callerFor(req);
      // `model` names an agent; an unknown one is OpenAI's 404 model_not_found.
      const agents = await caller.agents.list({ checkReachability: false });
      if (!agents.some((a) => a.id === body.model)) {
        throw new DetailedError(new AppError('NOT_FOUND', `The model '${body.model}' does not exist (GET /v1/models lists them)`), {
          param: 'model',
          code: 'model_not_found',
        });
      }
      const created = Math.floor(Date.now() / 1000);

      if (!body.stream) {
        const a = await caller.chat.converse(turn);
        res.setHeader('X-Colloquy-Conversation', a.conversationId);
        res.setHeader('X-Colloquy-Message', a.messageId);
        if (a.status === 'error') {
          sendError(res, httpStatusOf('INTERNAL_SERVER_ERROR'), FAILED, a.error ?? 'the agent failed', { code: 'upstream_error' });
          return;
        }
        res.json({
          id: `chatcmpl-${a.messageId}`,
          object: 'chat.completion',
          created,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: a.answer, refusal: null }, logprobs: null, finish_reason: 'stop' }],
          usage: toUsage(a),
          system_fingerprint: null,
          conversation_id: a.conversationId,
          message_id: a.messageId,
        } satisfies ChatCompletion);
        return;
      }

      // Counted before the turn starts: a refused stream starts nothing.
      if (!options.holdStream(req, res, FAILED)) return;
      // The client going away ends only its reading: the turn runs on and is stored.
      const reading = new AbortController();
      res.on('close', () => reading.abort());
      const streaming = callerFor(req, reading.signal);
      const started = await streaming.chat.send(turn);
      res.setHeader('X-Colloquy-Conversation', started.conversationId);
      res.setHeader('X-Colloquy-Message', started.messageId);
      const answer = new StreamedAnswer(
        req,
        res,
        FAILED,
        completionFormat({
          id: `chatcmpl-${started.messageId}`,
          model: body.model,
          created,
          conversationId: started.conversationId,
          messageId: started.messageId,
          includeUsage: body.stream_options?.include_usage === true,
        }),
      );
      const events = await streaming.chat.events({ messageId: started.messageId, user: turn.user });
      req.next = undefined;
      answer.start(events);
    }),
  );
  return r;
}
