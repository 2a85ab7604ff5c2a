/**
 * The SDK's public types. Each is derived from the server's router (its zod schemas), reshaped
 * one way everywhere: camelCase fields, and every time as epoch milliseconds (`number`).
 * The wire keeps its own shape (Dify-style snake_case stream events with Unix seconds, ISO
 * strings in records); `shapes.ts` converts, checked against these types.
 */
import type { AppRouter, ClientEvent as WireClientEvent, StreamEvent as WireStreamEvent } from '@colloquy/api';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

type RouterInputs = inferRouterInputs<AppRouter>;
type RouterOutputs = inferRouterOutputs<AppRouter>;

export type { AppRouter };

/** Spells out an intersection (readable hovers and declarations). */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The wire's times (ISO strings) as epoch milliseconds. */
type EpochTimes<T> = { [K in keyof T]: K extends 'createdAt' | 'updatedAt' | 'connectedAt' | 'lastSeen' ? number : T[K] };

/** `snake_case` → `camelCase`. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

// ---- records -------------------------------------------------------------------------------

export type Conversation = EpochTimes<RouterOutputs['conversations']['get']>;
export type Message = EpochTimes<RouterOutputs['messages']['list']['items'][number]>;
export type FileInfo = EpochTimes<RouterOutputs['files']['get']>;
export type AgentInfo = RouterOutputs['agents']['list'][number];
/** Who a client acts as (`whoami()`). */
export type WhoAmI = RouterOutputs['session']['whoami'];
/** A finished turn: what `converse()` returns and a stream's `final()` resolves with. */
export type Answer = EpochTimes<RouterOutputs['chat']['converse']>;
export type MessageStatus = Answer['status'];
export type Usage = NonNullable<Answer['usage']>;
export type Citation = Answer['citations'][number];
/** A connected client, as `clients.list` and `clients.watch` describe it. */
export type ClientInfo = EpochTimes<RouterOutputs['clients']['list']['clients'][number]>;
export type ClientList = Simplify<Omit<RouterOutputs['clients']['list'], 'clients'> & { clients: ClientInfo[] }>;

/** One page of a list, and the cursor of the next (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export type ConversationPage = Page<Conversation>;
export type MessagePage = Page<Message>;
export type FilePage = Page<FileInfo>;

// ---- events --------------------------------------------------------------------------------

type Envelope = 'event' | 'id' | 'conversation_id' | 'message_id' | 'created_at';

/**
 * One wire event reshaped: the envelope as `id`, `conversationId`, `messageId`, `createdAt`
 * (epoch ms; the wire has second precision), the rest camelCase; `message_end`'s Dify-style
 * `metadata` becomes `usage` and `citations`, shaped as in `Answer`.
 */
type ShapeEvent<E> = E extends { event: infer Name }
  ? Simplify<
      { event: Name; id: string; conversationId: string; messageId: string; createdAt: number } & {
        [K in keyof E as K extends Envelope | 'metadata' ? never : CamelCase<K & string>]: E[K];
      } & (E extends { metadata: unknown } ? { usage: Usage | null; citations: Citation[] } : unknown)
    >
  : never;

/** A stream's events: a union on `event`. */
export type StreamEvent = ShapeEvent<WireStreamEvent>;
export type StreamEventName = StreamEvent['event'];
/** One event type, narrowed by name: `EventOf<'message'>`. */
export type EventOf<N extends StreamEventName> = Extract<StreamEvent, { event: N }>;

type ShapeClientEvent<E> = E extends unknown
  ? Simplify<{ [K in keyof E]: K extends 'client' ? ClientInfo : K extends 'clients' ? ClientInfo[] : E[K] }>
  : never;
/** What `clients.watch()` yields: a `snapshot`, then `joined`, `changed` and `left`. */
export type ClientEvent = ShapeClientEvent<WireClientEvent>;

// ---- inputs --------------------------------------------------------------------------------

type WireTurn = RouterInputs['chat']['send'];

/** What every turn says, besides which conversation it belongs to. */
export interface TurnFields {
  /** The question or instruction. */
  query: WireTurn['query'];
  /** Files for this turn: ids, or the path strings used at upload. */
  files?: WireTurn['files'];
  /** The agent to run (default: the conversation's, else the server's default agent). */
  agent?: WireTurn['agent'];
  /**
   * An opaque tag stored with a new conversation (conversations can be listed by it). A turn
   * that continues a conversation with a different `managerId` fails with a ConflictError
   * (409) and changes nothing.
   */
  managerId?: WireTurn['managerId'];
  /**
   * The answer's message id: a UUID (default: a new random one). Known before the server
   * answers, so a turn whose start timed out or was aborted can still be resumed or stopped;
   * an id already in use is a ConflictError (409) and changes nothing.
   */
  messageId?: WireTurn['messageId'];
  /**
   * The history the agent gets instead of the stored conversation's (oldest first, without the
   * query; `system` messages are instructions). Only the query and the answer are stored.
   */
  history?: WireTurn['history'];
  /** App inputs (Dify's `inputs`) kept with a new conversation; a continued one keeps its own. */
  inputs?: WireTurn['inputs'];
}

/** Continue a conversation: the given one, else the user's latest (the original API's rule). */
export interface ContinueConversation {
  /**
   * The conversation to continue (created with this id if it does not exist yet). Left out,
   * the turn continues the user's **latest** conversation (the one last used), or starts the
   * first; use `newConversation: true` to start a new one instead.
   */
  conversationId?: string | undefined;
  newConversation?: false | undefined;
}

/** Start a new conversation. */
export interface StartConversation {
  /** Starts a new conversation (its id is generated by the SDK; the answer tells it). */
  newConversation: true;
  conversationId?: undefined;
}

/** What starts a turn. The user comes from the client's options, not from each call. */
export type ConverseInput = TurnFields & (ContinueConversation | StartConversation);

export type ListConversationsParams = Omit<RouterInputs['conversations']['list'], 'user' | 'lastId'>;
export type ListMessagesParams = Omit<RouterInputs['messages']['list'], 'user' | 'conversationId'>;
export type ListFilesParams = Omit<RouterInputs['files']['list'], 'user'>;

// The SDK's turn fields are the router's (less `user`, and with the conversation choice apart):
// a field added to the router fails to compile here until it is documented above.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
// `conversationMode` is the SDK's `newConversation` (a new id chosen by the SDK).
type _TurnFieldsMatchTheRouter = Assert<Same<keyof TurnFields, Exclude<keyof WireTurn, 'user' | 'conversationId' | 'conversationMode'>>>;
