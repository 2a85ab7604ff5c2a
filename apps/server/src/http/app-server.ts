import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Express } from 'express';

/**
 * An HTTP server for `app` whose requests and responses are created with the app's prototypes
 * (`app.request`, `app.response`) instead of being given them afterwards.
 *
 * Express re-parents every request and response (`Object.setPrototypeOf(req, app.request)`).
 * On V8 (Node 20) that gives each object a map of its own, so every property set on it later
 * (Express and the router add a dozen or more per request, body-parser, the auth and logging
 * middleware more) builds a new hidden class — about 1 µs each — and every property access on
 * `req`/`res` is megamorphic. Here Node creates them as instances of subclasses whose
 * prototypes inherit from the app's, and the app is told to use those prototypes, so Express's
 * `setPrototypeOf` finds the prototype already in place (a no-op) and all requests share one
 * chain of hidden classes. Nothing else changes: the objects are still IncomingMessage and
 * ServerResponse instances, and everything on `app.request`/`app.response` is inherited.
 */
/** Timeouts and caps of the connections (see ServerConfig). */
export interface ConnectionLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** 0: no cap. */
  maxConnections: number;
}

export function createAppServer(app: Express, limits?: ConnectionLimits): Server {
  class AppRequest extends IncomingMessage {}
  class AppResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {}
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.request = AppRequest.prototype as unknown as Express['request'];
  app.response = AppResponse.prototype as unknown as Express['response'];
  if (!limits) return createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
  const server = createServer(
    {
      IncomingMessage: AppRequest,
      ServerResponse: AppResponse,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node looks for requests over their timeouts (default 30 s, which would let a
      // slow client live up to 30 s past them). One pass over the open connections a second.
      connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(limits.headersTimeoutMs / 4))),
    },
    app,
  );
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  return server;
}
