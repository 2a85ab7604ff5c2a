export { appRouter, createCaller, type AppRouter } from './root.ts';
export {
  createContextFactory,
  type ApiConfig,
  type Context,
  type Identity,
  type RequestInfo,
  type Services,
} from './context.ts';
export { createServices, type ServicesOptions } from './services/create-services.ts';
export { AppError, type AppErrorCode } from './errors/app-error.ts';
export { describeZodError } from './errors/describe-zod-error.ts';
export { streamEventSchema, type StreamEvent, type StreamEventName } from './schemas/stream-event.ts';
export * from './schemas/records.ts';
export { answerSchema, type Answer } from './chat/converse.types.ts';
export type { TurnInputSchema } from './chat/turn-input.types.ts';
export type { ListConversationsInput, ListConversationsOutput } from './conversations/list.types.ts';
export type { ListMessagesInput, ListMessagesOutput } from './messages/list.types.ts';
