import { createCaller, type AppRouter, type Context } from '@colloquy/api';
import { getTRPCErrorFromUnknown, getTRPCErrorShape } from '@trpc/server';
import type { Request, RequestHandler } from 'express';
import { StreamedAnswer, type StreamFormat } from './streamed-answer.ts';

/**
 * `chat.events` over tRPC v11's SSE protocol, written directly: tRPC's own subscription path
 * builds a fetch Request/Response and a chain of web streams (an async generator, a
 * TransformStream, a TextEncoderStream) per stream, and pays for them on every event; this writes
 * one string per event to the response (the writer REST's NDJSON uses). The wire is tRPC's, so
 * `@trpc/client`'s httpSubscriptionLink (and the SDK over it) work unchanged:
 *
 * - `event: connected` first, with the client options (`reconnectAfterInactivityMs`);
 * - every event as `data: <json>` with `id: <event id>` (the tracked id: a reconnecting client
 *   sends it back as `Last-Event-Id` / `lastEventId`, merged into the input by
 *   subscriptionInputGuard, and resumes after it);
 * - `event: ping` while idle; `event: return` when the stream ends;
 * - a failure as `event: serialized-error` with tRPC's error shape (also one raised before the
 *   first event, e.g. NOT_FOUND, as tRPC itself answers it: HTTP 200, then the error event).
 *
 * The router has no transformer, so data is plain JSON (as tRPC would serialize it).
 */
const PATH = 'chat.events';

export function trpcEventsRoute(router: AppRouter, contextFor: (req: Request) => Context, onError: (err: unknown, req: Request) => void): RequestHandler {
  const config = router._def._config;
  const sse = config.sse ?? {};
  const connected = `event: connected\ndata: ${JSON.stringify(sse.client ?? {})}\n\n`;
  const pingMs = sse.ping?.enabled ? (sse.ping.intervalMs ?? 1000) : 0;
  const errorEvent = (err: unknown, req: Request) => {
    const error = getTRPCErrorFromUnknown(err);
    if (error.code === 'INTERNAL_SERVER_ERROR') onError(error.cause ?? error, req);
    const shape = getTRPCErrorShape({ config, error, type: 'subscription', path: PATH, input: undefined, ctx: undefined });
    return `event: serialized-error\ndata: ${JSON.stringify(shape)}\n\n`;
  };
  return (req, res, next) => {
    // Mounted at /trpc, after subscriptionInputGuard (which checked and kept the input).
    if (req.method !== 'GET' || req.path !== `/${PATH}`) {
      next();
      return;
    }
    const format: StreamFormat = {
      contentType: 'text/event-stream',
      begin: () => connected,
      serialize: (event) => `data: ${JSON.stringify(event)}\nid: ${event.id}\n\n`,
      end: () => 'event: return\ndata: \n\n',
      failure: (_detail, err) => errorEvent(err, req),
      ...(pingMs > 0 ? { keepAlive: { intervalMs: pingMs, text: 'event: ping\ndata: \n\n' } } : {}),
    };
    res.setHeader('Connection', 'keep-alive');
    const answer = new StreamedAnswer(req, res, 'subscription failed', format);
    // The headers and `connected` go out at once, before the procedure runs: a subscription that
    // waits for its turn to start (awaitStart) is an open stream meanwhile, which its client can
    // close cleanly, rather than a request still waiting for its response.
    answer.open();
    createCaller(contextFor(req), { signal: answer.signal })
      .chat.events(res.locals.subscriptionInput as Parameters<ReturnType<typeof createCaller>['chat']['events']>[0])
      .then(
        (events) => answer.relay(events),
        // As tRPC answers a subscription whose procedure failed: the error event, then the end.
        (err: unknown) => {
          if (!res.writableEnded) res.end(errorEvent(err, req));
        },
      );
  };
}
