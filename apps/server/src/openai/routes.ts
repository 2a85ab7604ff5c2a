import type { Request, Response } from 'express';
import { Router } from 'express';
import type { CallerFor } from '../rest/caller.ts';
import { chatCompletionsRoute } from './chat-completions-route.ts';
import { modelsRoute } from './models-route.ts';

/** OpenAI's Chat Completions and Models routes, over the same router as every other surface. */
export function openaiRoutes(callerFor: CallerFor, options: { holdStream(req: Request, res: Response, message: string): boolean }): Router {
  const r = Router();
  r.use(modelsRoute(callerFor));
  r.use(chatCompletionsRoute(callerFor, options));
  return r;
}
