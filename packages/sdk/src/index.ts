export { createClient, type ClientOptions, type ColloquyClient, type ResumeOptions } from './client.ts';
export { AnswerStream } from './answer-stream.ts';
export { ClientWatch, type JsonValue, type PresenceOptions } from './presence.ts';
export {
  decodeVideoFrame,
  encodeVideoFrame,
  Video,
  type PublishOptions,
  type PublishResult,
  type VideoFormat,
  type VideoFrame,
  type VideoFrameInput,
  type VideoWatch,
  type WatchOptions,
} from './video.ts';
export type { WebSocketConstructor, WebSocketLike } from './websocket.ts';
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
  ClientEvent,
  ClientInfo,
  ClientList,
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
