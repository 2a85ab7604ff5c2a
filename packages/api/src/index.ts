export { appRouter, createCaller, type AppRouter } from './root.ts';
export {
  appEndUser,
  findByOwnId,
  userFrom,
  type Actor,
  type FieldSource,
  type Identity,
  type Principal,
  type Role,
} from './access.ts';
export { actorOf, createContextFactory, type Context, type RequestInfo, type Surface } from './context.ts';
export type { RequestFacts } from './clients/request-facts.ts';
export type { ApiConfig } from './services/api-config.ts';
export type { Services } from './services/container.ts';
export { createServices, type ServicesOptions } from './services/create-services.ts';
export type { Logger, TurnObserver } from './services/observability.ts';
export { HistoryWindows, type HistoryWindowLimits } from './services/turns/history-window.ts';
export {
  discardStaged,
  stageUpload,
  storeStagedUpload,
  type StagedUpload,
  type UploadSource,
} from './services/file-upload.ts';
export { presentFile } from './schemas/presenters.ts';
export { AppError, type AppErrorCode } from './errors/app-error.ts';
export { describeZodError } from './errors/describe-zod-error.ts';
export { httpStatusOf } from './errors/http-status.ts';
export { userIdSchema } from './schemas/common.ts';
export {
  difyUsageSchema,
  retrieverResourceSchema,
  streamEventSchema,
  type StreamEvent,
  type StreamEventName,
} from './schemas/stream-event.ts';
export * from './schemas/records.ts';
export { toDifyMetadata } from './services/stream-event-builders.ts';
export type { Answer } from './chat/converse.types.ts';
export { converseDirect } from './chat/converse.ts';
export type { TurnInputSchema } from './chat/turn-input.types.ts';
export type { ListConversationsInput, ListConversationsOutput } from './conversations/list.types.ts';
export type { ListMessagesInput, ListMessagesOutput } from './messages/list.types.ts';
export {
  clientInfoSchema,
  clientListSchema,
  type ClientEvent,
  type ClientInfo,
  type ClientList,
  type PresenceMessage,
} from './clients/clients.types.ts';
export { attachClient } from './clients/attach.ts';
