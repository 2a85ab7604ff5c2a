import { Router, type Request, type Response } from 'express';
import type { CallerFor, ContextFor } from '../rest/caller.ts';
import { appInfoRoutes } from './app-info-routes.ts';
import { chatMessagesRoute } from './chat-messages-route.ts';
import { conversationRoutes } from './conversation-routes.ts';
import { fileUploadRoute } from './file-upload-route.ts';
import { messageRoutes } from './message-routes.ts';

export interface DifyRoutesOptions {
  contextFor: ContextFor;
  maxFileBytes: number;
  holdStream(req: Request, res: Response, message: string): boolean;
}

/** Dify's Service API (Chat App), over the same router as every other surface. */
export function difyRoutes(callerFor: CallerFor, options: DifyRoutesOptions): Router {
  const r = Router();
  r.use(chatMessagesRoute(callerFor, options));
  r.use(conversationRoutes(callerFor));
  r.use(messageRoutes(callerFor));
  r.use(fileUploadRoute(options));
  r.use(appInfoRoutes(options));
  return r;
}
