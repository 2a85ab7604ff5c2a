import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { AppError, createContextFactory, appRouter, type Services } from '@colloquy/api';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express, { type Express } from 'express';
import type { ServerConfig } from './config.ts';
import { refuseConnection } from './http/error-envelope.ts';
import { healthRoutes } from './http/health-routes.ts';
import { errorHandler, notFoundHandler } from './http/json-errors.ts';
import { listRoutes } from './http/route-list.ts';
import { subscriptionInputGuard } from './http/subscription-input.ts';
import { trpcEventsRoute } from './http/trpc-events-route.ts';
import { webAppRoutes } from './http/web-app.ts';
import type { Logger } from './observability/logging.ts';
import { requestLogging } from './observability/logging.ts';
import type { Metrics } from './observability/metrics.ts';
import { buildOpenApiDocument } from './openapi/document.ts';
import { docsRoutes } from './openapi/docs-routes.ts';
import { makeCallerFor, makeContextFor } from './rest/caller.ts';
import { conversationRoutes } from './rest/conversation-routes.ts';
import { converseRoute } from './rest/converse-route.ts';
import { fileRoutes } from './rest/file-routes.ts';
import { stopRoute } from './rest/stop-route.ts';
import { uploadRoute } from './rest/upload-route.ts';
import { clientListRoute } from './rest/client-list.ts';
import { openaiRoutes } from './openai/routes.ts';
import { difyRoutes } from './dify/routes.ts';
import {
  accessGuard,
  holdStream,
  principalOf,
  securityHeaders,
  siteGuard,
  subscriptionStreams,
  type AccessControl,
} from './security/index.ts';

/** The web app's build (apps/web/dist), served at `/`. */
const webDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'web', 'dist');

/** What the composition root hands the app for logs, metrics and readiness. */
export interface AppObservability {
  logger: Logger;
  metrics: Metrics;
  /** True once shutdown has begun (/readyz answers 503). */
  isDraining(): boolean;
}

/** Room for a multipart form's boundaries and fields around a file of MAX_FILE_BYTES. */
const MULTIPART_OVERHEAD = 256 * 1024;

/** The HTTP surface: tRPC at /trpc, the REST compatibility routes, health, the web app. */
export function createApp(config: ServerConfig, services: Services, access: AccessControl, ops: AppObservability): Express {
  const createContext = createContextFactory(services);
  const callerFor = makeCallerFor(createContext);
  const contextFor = makeContextFor(createContext);
  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-For is believed only from the proxies TRUST_PROXY names (none by default).
  app.set('trust proxy', config.trustProxy);
  // No ETags on `res.send` bodies: API answers are conversation data that changes, clients make
  // no conditional requests (not part of the API contract), and hashing every JSON body (POST
  // answers included) cost CPU for nothing. The web app's assets keep theirs (and
  // Last-Modified): express.static has its own `etag` option.
  app.set('etag', false);
  // First: every response (errors and streams included) carries X-Request-Id, is logged and timed.
  app.use(requestLogging(ops.logger));
  app.use(ops.metrics.httpMiddleware(routeLabeler(() => app)));
  app.use(securityHeaders(config.corsOrigins));
  // Before anything answers: a foreign Host (DNS rebinding) or web origin reaches nothing, health included.
  app.use(siteGuard(access.sites));

  // Health, metrics and the API document are public: they stay above the auth middleware.
  app.use(
    healthRoutes({
      services,
      registry: ops.metrics.registry,
      readinessTimeoutMs: config.readinessTimeoutMs,
      isDraining: ops.isDraining,
    }),
  );
  // While shutting down, everything but health answers 503 (and closes its connection).
  app.use((req, res, next) => {
    if (!ops.isDraining()) {
      next();
      return;
    }
    res.setHeader('Retry-After', '1');
    refuseConnection(req, res, 503, '服务正在关闭', 'the server is shutting down; retry shortly');
  });
  app.use(docsRoutes(() => buildOpenApiDocument({ version: '0.1.0', apiKeys: config.apiKeys.length > 0 })));
  // The web app's pages and assets hold no data (every call they make is authenticated).
  app.use(webAppRoutes(webDir));

  // Everything below needs an API key (when keys are configured) and is rate-limited; health
  // routes stay above this line.
  app.use(accessGuard(access, webDir));

  const trpc = (maxBodySize: number) =>
    createExpressMiddleware({
      router: appRouter,
      createContext: ({ req }) => createContext({ headers: req.headers, principal: principalOf(req), ip: req.ip }),
      maxBodySize,
      // Calls of a batch run at once; each counts against the rate limit (security/rate-limit.ts).
      maxBatchSize: config.maxBatchSize,
      // Errors raised before a procedure runs (e.g. 415) otherwise go out without a JSON type.
      responseMeta: ({ errors }) => {
        if (errors.length === 0) return {};
        const retryAfter = errors.find((e) => e.cause instanceof AppError && e.cause.retryAfterSeconds !== undefined)?.cause as
          | AppError
          | undefined;
        return {
          headers: {
            'content-type': 'application/json',
            ...(retryAfter ? { 'retry-after': String(retryAfter.retryAfterSeconds) } : {}),
          },
        };
      },
      onError({ error, path, req }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') req.log.error({ err: error.cause ?? error, path }, 'trpc call failed');
      },
    });
  const trpcCalls = trpc(config.jsonBodyLimit);
  // FormData uploads (files.upload) may be as large as a file; every other call keeps the JSON limit.
  const trpcUploads = trpc(config.maxFileBytes + MULTIPART_OVERHEAD);
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
  const subscriptions = new Set(Object.keys(procedures).filter((path) => procedures[path]?._def.type === 'subscription'));
  // A subscription's bad input is a 400 before any stream starts (tRPC would send a 200 stream
  // with an error event); only then does it take an open-stream slot.
  app.use('/trpc', subscriptionInputGuard(appRouter));
  app.use('/trpc', subscriptionStreams(access, subscriptions));
  // chat.events (how the SDK streams) on a direct SSE writer that speaks tRPC's protocol.
  app.use(
    '/trpc',
    trpcEventsRoute(
      appRouter,
      (req) => createContext({ headers: req.headers, principal: principalOf(req), ip: req.ip }),
      (err, req) => req.log.error({ err, path: 'chat.events' }, 'trpc call failed'),
    ),
  );
  app.use('/trpc', (req, res, next) => (req.is('multipart/form-data') ? trpcUploads : trpcCalls)(req, res, next));

  // REST: JSON bodies of any declared JSON type; other types leave the body empty (→ 400).
  app.use(express.json({ limit: config.jsonBodyLimit, type: ['application/json', 'application/*+json'] }));
  app.use(conversationRoutes(callerFor));
  app.use(fileRoutes(callerFor));
  app.use(uploadRoute({ contextFor, maxFileBytes: config.maxFileBytes }));
  app.use(
    converseRoute(callerFor, {
      defaultResponseMode: config.defaultResponseMode,
      contextFor,
      holdStream: (req, res, message) => holdStream(access, req, res, message),
    }),
  );
  app.use(stopRoute(callerFor));
  app.use(clientListRoute(callerFor));
  // Drop-in surfaces for existing apps: OpenAI's Chat Completions and Dify's Service API.
  const streamSlot = (req: express.Request, res: express.Response, message: string) => holdStream(access, req, res, message);
  app.use(openaiRoutes(callerFor, { holdStream: streamSlot }));
  app.use(difyRoutes(callerFor, { contextFor, maxFileBytes: config.maxFileBytes, holdStream: streamSlot }));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/**
 * The metrics' `route` label for a request path: a registered REST route's path, a tRPC
 * procedure (`/trpc/chat.send`; batches and unknown names collapse), or undefined (static files
 * and unknown paths, labelled by the metrics from the status). Never the raw URL.
 */
function routeLabeler(appOf: () => Express): (path: string) => string | undefined {
  let rest: { exact: Set<string>; patterns: [RegExp, string][] } | undefined;
  const procedures = new Set(Object.keys(appRouter._def.procedures));
  return (path) => {
    if (!rest) {
      const paths = listRoutes(appOf()).map((r) => r.path);
      rest = {
        exact: new Set(paths.filter((p) => !p.includes(':'))),
        // `/live/:clientId` is labelled as written, whatever the id.
        patterns: paths.filter((p) => p.includes(':')).map((p) => [new RegExp(`^${p.replace(/:\w+/g, '[^/]+')}$`), p]),
      };
    }
    if (rest.exact.has(path)) return path;
    const pattern = rest.patterns.find(([re]) => re.test(path));
    if (pattern) return pattern[1];
    if (path === '/trpc' || path.startsWith('/trpc/')) {
      const names = path.slice('/trpc/'.length).split(',');
      if (names.length === 1 && procedures.has(names[0]!)) return `/trpc/${names[0]}`;
      return names.every((n) => procedures.has(n)) ? '/trpc/(batch)' : '/trpc/(unknown)';
    }
    return undefined;
  };
}
