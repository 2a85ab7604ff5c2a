import type { AppRouter, ClientEvent, StreamEvent } from '@colloquy/api';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

/** Every type here is inferred from the server's router; none is restated by hand. */
type RouterInputs = inferRouterInputs<AppRouter>;
type RouterOutputs = inferRouterOutputs<AppRouter>;

export type { AppRouter, ClientEvent, StreamEvent };
export type StreamEventName = StreamEvent['event'];
/** One event type, narrowed by name: `EventOf<'message'>`. */
export type EventOf<N extends StreamEventName> = Extract<StreamEvent, { event: N }>;

export type Conversation = RouterOutputs['conversations']['get'];
export type ConversationPage = RouterOutputs['conversations']['list'];
export type Message = RouterOutputs['messages']['list']['items'][number];
export type MessagePage = RouterOutputs['messages']['list'];
export type FileInfo = RouterOutputs['files']['get'];
export type FilePage = RouterOutputs['files']['list'];
export type AgentInfo = RouterOutputs['agents']['list'][number];
export type Answer = RouterOutputs['chat']['converse'];
export type MessageStatus = Answer['status'];
export type Usage = NonNullable<Answer['usage']>;
export type Citation = Answer['citations'][number];
export type ClientList = RouterOutputs['clients']['list'];
/** A connected client, as `clients.list` and `clients.watch` describe it. */
export type ClientInfo = ClientList['clients'][number];

/** What starts a turn. The user comes from the client's options, not from each call. */
export type ConverseInput = Omit<RouterInputs['chat']['send'], 'user'>;
export type ListConversationsParams = Omit<RouterInputs['conversations']['list'], 'user' | 'lastId'>;
export type ListMessagesParams = Omit<RouterInputs['messages']['list'], 'user' | 'conversationId'>;
export type ListFilesParams = Omit<RouterInputs['files']['list'], 'user'>;
