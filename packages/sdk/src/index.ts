export { createClient, type ClientOptions, type ColloquyClient, type ResumeOptions } from './client.ts';
export { AnswerStream } from './answer-stream.ts';
export {
  BadRequestError,
  ColloquyError,
  ConflictError,
  ConnectionError,
  ForbiddenError,
  NotFoundError,
  RateLimitError,
  ServerError,
  UnauthorizedError,
} from './errors.ts';
export type {
  AgentInfo,
  Answer,
  AppRouter,
  Citation,
  Conversation,
  ConversationPage,
  ConverseInput,
  EventOf,
  FileInfo,
  FilePage,
  ListConversationsParams,
  ListFilesParams,
  ListMessagesParams,
  Message,
  MessagePage,
  MessageStatus,
  StreamEvent,
  StreamEventName,
  Usage,
} from './types.ts';
