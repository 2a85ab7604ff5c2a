import { agentsRouter } from './agents/router.ts';
import { chatRouter } from './chat/router.ts';
import { clientsRouter } from './clients/router.ts';
import { conversationsRouter } from './conversations/router.ts';
import { filesRouter } from './files/router.ts';
import { messagesRouter } from './messages/router.ts';
import { sessionRouter } from './session/router.ts';
import { createCallerFactory, router } from './trpc.ts';

export const appRouter = router({
  conversations: conversationsRouter,
  messages: messagesRouter,
  files: filesRouter,
  chat: chatRouter,
  agents: agentsRouter,
  clients: clientsRouter,
  session: sessionRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side caller: the REST compatibility layer calls the same procedures through it. */
export const createCaller = createCallerFactory(appRouter);
