import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createContextFactory, appRouter, type Services } from '@colloquy/api';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express, { type Express } from 'express';
import type { ServerConfig } from './config.ts';
import { errorHandler, notFoundHandler } from './http/json-errors.ts';
import { makeCallerFor } from './rest/caller.ts';
import { conversationRoutes } from './rest/conversation-routes.ts';
import { converseRoute } from './rest/converse-route.ts';
import { fileRoutes } from './rest/file-routes.ts';

const publicDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'public');

/** The HTTP surface: tRPC at /trpc, the REST compatibility routes, health, the console. */
export function createApp(config: ServerConfig, services: Services): Express {
  const createContext = createContextFactory(services);
  const callerFor = makeCallerFor(createContext);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: ({ req }) => createContext({ headers: req.headers }),
      maxBodySize: config.jsonBodyLimit,
      // Errors raised before a procedure runs (e.g. 415) otherwise go out without a JSON type.
      responseMeta: ({ errors }) => (errors.length > 0 ? { headers: { 'content-type': 'application/json' } } : {}),
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`[colloquy] trpc ${path ?? '?'} failed:`, error.cause ?? error);
      },
    }),
  );

  // REST: JSON bodies of any declared JSON type; other types leave the body empty (→ 400).
  app.use(express.json({ limit: config.jsonBodyLimit, type: ['application/json', 'application/*+json'] }));
  app.use(conversationRoutes(callerFor));
  app.use(fileRoutes(callerFor));
  app.use(converseRoute(callerFor, { defaultResponseMode: config.defaultResponseMode }));

  app.use(express.static(publicDir, { index: 'index.html', maxAge: '5m' }));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
