import type { APIPromise } from './api-promise.ts';
import { AnswerStream, type StartedTurn } from './answer-stream.ts';
import { runCall, type CallPlan, type RequestOptions, type TurnIds } from './call.ts';
import { BadRequestError, ColloquyError, ConflictError } from './errors.ts';
import { randomUUID } from './ids.ts';
import { ClientWatch, PresenceConnection, type JsonValue } from './presence.ts';
import { defaultRetryPolicy, type RetryPolicy } from './retry.ts';
import { toAnswer, toClientList, toConversation, toFile, toMessage, toPage } from './shapes.ts';
import { toColloquyError } from './to-colloquy-error.ts';
import { createTransport, trpcUrl, type CallContext } from './transport/create-trpc-client.ts';
import { progressFetch, type UploadProgress } from './transport/progress-fetch.ts';
import { createSseSubscription } from './transport/sse-subscription.ts';
import { prepareTurn, type PreparedTurn } from './turn.ts';
import { Video } from './video.ts';
import type { WebSocketConstructor } from './websocket.ts';
import type {
  AgentInfo,
  Answer,
  ClientList,
  Conversation,
  ConversationPage,
  ConverseInput,
  FileInfo,
  FilePage,
  ListConversationsParams,
  ListFilesParams,
  ListMessagesParams,
  Message,
  MessagePage,
  MessageStatus,
  WhoAmI,
} from './types.ts';

export interface ClientOptions {
  /** Where the server runs, e.g. `http://localhost:5000`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` (and as `token` on browser WebSockets). */
  apiKey?: string | undefined;
  /** The user every call acts for (servers without API keys tell users apart by it; an admin key acts for it). */
  user?: string | undefined;
  /** Extra headers on every request. */
  headers?: Record<string, string> | undefined;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof globalThis.fetch | undefined;
  /** Retries after connection errors, 429 and 5xx (turns included: they keep their message id). Default 2. */
  maxRetries?: number | undefined;
  /**
   * Bounds each call, its retries and waits included, in ms. Default 60 000. Streams and uploads
   * are bounded only by a `timeoutMs` given to them (a stream's start is bounded by this one).
   */
  timeoutMs?: number | undefined;
  /** Consecutive re-attach attempts a stream makes after its connection drops. Default 5. */
  maxReconnects?: number | undefined;
  /**
   * Keep a presence connection, so the server lists this client among the connected ones.
   * Default: on when `kind`, `name` or `metadata` is given, else off. While it is on, the
   * open connection keeps a Node process running: call `close()` when done.
   */
  presence?: boolean | undefined;
  /** How this client is listed: its kind (default `sdk`). Giving it turns presence on. */
  kind?: string | undefined;
  /** A display name for client lists. Giving it turns presence on. */
  name?: string | undefined;
  /** A small JSON object describing the client (at most 2 KB of JSON). Giving it turns presence on. */
  metadata?: Record<string, JsonValue> | undefined;
  /** This client's id (default: a random UUID). Sent on every request as `X-Colloquy-Client`. */
  clientId?: string | undefined;
  /**
   * The WebSocket implementation for live video. Default: the global WebSocket (browsers,
   * Node >= 22), else the `ws` package. One that accepts `{headers}` sends the API key as a
   * header; the browser's gets it as a `token` query parameter.
   */
  webSocket?: WebSocketConstructor | undefined;
}

export type { RequestOptions };

/** Options of `stream()`. */
export interface StreamOptions extends RequestOptions {
  /**
   * Bounds the whole stream, from starting the turn to its `message_end` (a TimeoutError; the
   * generation goes on server-side). Default: none (starting the turn is bounded by the
   * client's `timeoutMs`).
   */
  timeoutMs?: number | undefined;
  /** Tries of starting the turn, as for calls. Default: the client's `maxRetries`. */
  maxRetries?: number | undefined;
  /** Consecutive re-attach attempts after the connection drops. Default: the client's `maxReconnects`. */
  maxReconnects?: number | undefined;
}

/** Options of `resume()`. */
export interface ResumeOptions extends Omit<StreamOptions, 'maxRetries'> {
  /** The last event id already seen: the stream yields the events after it (`final()` is still the whole answer). */
  lastEventId?: string | undefined;
}

/** Options of `files.upload()`. */
export interface UploadOptions extends RequestOptions {
  /** The stored name (default: the File's own name, else `upload`). A turn may name the file by it. */
  name?: string | undefined;
  /** Bounds the upload. Default: none (a large file may take long). */
  timeoutMs?: number | undefined;
  /**
   * Called as the request body goes out (in browsers, through XMLHttpRequest's upload events;
   * in Node once, when it is sent): for a progress bar.
   */
  onProgress?: ((progress: UploadProgress) => void) | undefined;
}

export type { UploadProgress };

/** Options of `clients.watch()`. */
export interface WatchClientsOptions {
  /** Ends watching. */
  signal?: AbortSignal | undefined;
  headers?: Record<string, string> | undefined;
}

export interface StopResult {
  messageId: string;
  /** The message's final status: `stopped` if it was running, else how it had ended. */
  status: MessageStatus;
}

/** The data an upload takes. */
export type UploadData = Blob | File | Uint8Array | ArrayBuffer;

export interface ColloquyClient {
  conversations: {
    /** One page, most recently used first: `{ items, nextCursor }`. */
    list(params?: ListConversationsParams, options?: RequestOptions): APIPromise<ConversationPage>;
    /** Every conversation, page after page. */
    iterate(params?: Omit<ListConversationsParams, 'cursor'>, options?: RequestOptions): AsyncIterable<Conversation>;
    get(id: string, options?: RequestOptions): APIPromise<Conversation>;
    rename(id: string, name: string, options?: RequestOptions): APIPromise<Conversation>;
    /** Deletes the conversation and its messages. */
    delete(id: string, options?: RequestOptions): APIPromise<void>;
  };
  messages: {
    /** One page of a conversation's messages, oldest first. */
    list(conversationId: string, params?: ListMessagesParams, options?: RequestOptions): APIPromise<MessagePage>;
    /** Every message of a conversation, oldest first, page after page. */
    iterate(conversationId: string, params?: Omit<ListMessagesParams, 'cursor'>, options?: RequestOptions): AsyncIterable<Message>;
  };
  files: {
    /** Stores files the server can read by path, inside its UPLOAD_ROOTS (as `POST /upload_files`). */
    uploadPaths(paths: string[], options?: RequestOptions): APIPromise<FileInfo[]>;
    /**
     * Uploads a file's content (as `POST /files`), under `name` (a string, or `options.name`;
     * default: the File's own name, else `upload`). A turn may then name the file by its id or that name.
     */
    upload(data: UploadData, nameOrOptions?: string | UploadOptions): APIPromise<FileInfo>;
    list(params?: ListFilesParams, options?: RequestOptions): APIPromise<FilePage>;
    /** Every file, page after page. */
    iterate(params?: Omit<ListFilesParams, 'cursor'>, options?: RequestOptions): AsyncIterable<FileInfo>;
    get(id: string, options?: RequestOptions): APIPromise<FileInfo>;
    delete(id: string, options?: RequestOptions): APIPromise<void>;
  };
  agents: {
    list(options?: RequestOptions): APIPromise<AgentInfo[]>;
  };
  /** Who this client acts as: its role (`open` without API keys), user, and the key's own user. */
  whoami(options?: RequestOptions): APIPromise<WhoAmI>;
  /**
   * Runs a turn to its end and returns the answer. Retried like other calls (the turn keeps its
   * message id, so a retry never starts it twice); on a timeout or abort the error carries the
   * `messageId` (and the `conversationId` when known) to `resume()` or `stop()` the turn.
   */
  converse(input: ConverseInput, options?: RequestOptions): APIPromise<Answer>;
  /** Starts a turn and streams its events. */
  stream(input: ConverseInput, options?: StreamOptions): AnswerStream;
  /**
   * Re-attaches to a message's stream (another process, after a crash, after a timeout). With
   * `lastEventId` only the later events are yielded; `final()` is the complete answer either way.
   */
  resume(messageId: string, options?: ResumeOptions): AnswerStream;
  /** Cancels a running generation (its partial answer is stored as `stopped`). */
  stop(messageId: string, options?: RequestOptions): APIPromise<StopResult>;
  /** This client's id: how it is listed, and what viewers watch when it publishes video. */
  readonly clientId: string;
  clients: {
    /** The connected clients this caller may see (its user's; all for an admin key). */
    list(options?: RequestOptions): APIPromise<ClientList>;
    /** A snapshot of the visible clients, then every join, change and leave, until closed. */
    watch(options?: WatchClientsOptions): ClientWatch;
    /** Resolves once this client's presence connection is registered (rejects when presence is off, or refused). */
    ready(): Promise<void>;
  };
  video: Video;
  /** Ends the presence connection (the client disappears from lists at once) and open watches. */
  close(): Promise<void>;
}

export function createClient(options: ClientOptions): ColloquyClient {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  if (options.user) headers['x-colloquy-user'] = options.user;
  const clientId = options.clientId ?? randomUUID();
  headers['x-colloquy-client'] = clientId;
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const trpc = createTransport({ baseUrl: options.baseUrl, headers, fetch: baseFetch });
  // Answers stream through the SDK's own SSE consumer; other subscriptions go through `trpc`.
  const subscribe = createSseSubscription({ url: trpcUrl(options.baseUrl), headers, fetch: baseFetch });
  const policy: RetryPolicy = { ...defaultRetryPolicy, maxRetries: options.maxRetries ?? defaultRetryPolicy.maxRetries };
  const defaultTimeoutMs = options.timeoutMs ?? 60_000;
  const defaultReconnects = options.maxReconnects ?? 5;

  /**
   * How a call runs: the per-call options over the client's. `limit` says which deadline
   * applies when the call gives none: the client's `timeoutMs`, or none (uploads, whose size
   * has no bound here).
   */
  const plan = (o: RequestOptions = {}, extra: { turn?: TurnIds; limit?: 'client' | 'none' } = {}): CallPlan => ({
    policy,
    maxRetries: o.maxRetries ?? policy.maxRetries,
    timeoutMs: o.timeoutMs ?? (extra.limit === 'none' ? undefined : defaultTimeoutMs),
    signal: o.signal,
    headers: o.headers,
    turn: extra.turn,
  });
  type Perform<T> = (signal: AbortSignal, context: CallContext) => Promise<T>;
  const call = <T>(o: RequestOptions | undefined, perform: Perform<T>) => runCall(plan(o), ({ signal, context }) => perform(signal, context));

  const presenceOn = options.presence ?? (options.kind !== undefined || options.name !== undefined || options.metadata !== undefined);
  const presence = presenceOn
    ? new PresenceConnection(trpc, clientId, { kind: options.kind, name: options.name, metadata: options.metadata })
    : undefined;
  const watches = new Set<ClientWatch>();
  const video = new Video({
    baseUrl: options.baseUrl,
    clientId,
    apiKey: options.apiKey,
    user: options.user,
    headers,
    webSocket: options.webSocket,
  });

  const stop = (messageId: string, o?: RequestOptions) =>
    runCall(plan(o, { turn: { messageId } }), ({ signal, context }) => trpc.chat.stop.mutate({ messageId }, { signal, context }));

  const listConversations = (params: ListConversationsParams = {}, o?: RequestOptions) =>
    call(o, async (signal, context) => toPage(await trpc.conversations.list.query(params, { signal, context }), toConversation));
  const listMessages = (conversationId: string, params: ListMessagesParams = {}, o?: RequestOptions) =>
    call(o, async (signal, context) => toPage(await trpc.messages.list.query({ ...params, conversationId }, { signal, context }), toMessage));
  const listFiles = (params: ListFilesParams = {}, o?: RequestOptions) =>
    call(o, async (signal, context) => toPage(await trpc.files.list.query(params, { signal, context }), toFile));

  /**
   * Starts a turn (`chat.send`), retried with the same message id. A retry refused as a
   * conflict may mean an earlier try started the turn (its answer was lost): the stream then
   * attaches to the message, and reports the conflict if there is none.
   */
  const startTurn = (turn: PreparedTurn, o: StreamOptions, signal: AbortSignal): Promise<StartedTurn> =>
    runCall(plan({ ...o, signal, timeoutMs: defaultTimeoutMs }, { turn: turn.ids }), async ({ signal: s, context, index }) => {
      try {
        const started = await trpc.chat.send.mutate(turn.wire, { signal: s, context });
        return { conversationId: started.conversationId };
      } catch (raw) {
        const err = toColloquyError(raw);
        if (index > 0 && err instanceof ConflictError) return { conversationId: turn.ids.conversationId, unconfirmed: err };
        throw raw;
      }
    });

  const streamOf = (
    messageId: string,
    o: StreamOptions,
    init: { conversationId: string | undefined; after: number; start: ((signal: AbortSignal) => Promise<StartedTurn>) | undefined },
  ) =>
    new AnswerStream({
      subscribe,
      policy,
      maxReconnects: o.maxReconnects ?? defaultReconnects,
      messageId,
      stop: (id) => stop(id, { headers: o.headers }),
      signal: o.signal,
      timeoutMs: o.timeoutMs,
      headers: o.headers,
      ...init,
    });

  /** A stream that fails at once (bad input found before anything was sent). */
  const failedStream = (err: unknown) =>
    new AnswerStream({
      subscribe,
      policy,
      maxReconnects: 0,
      messageId: '',
      conversationId: undefined,
      after: 0,
      stop: (id) => stop(id),
      signal: undefined,
      timeoutMs: undefined,
      headers: undefined,
      failure: toColloquyError(err),
    });

  return {
    conversations: {
      list: listConversations,
      iterate: (params = {}, o) => paginate((cursor) => listConversations({ ...params, ...(cursor ? { cursor } : {}) }, o)),
      get: (id, o) => call(o, async (signal, context) => toConversation(await trpc.conversations.get.query({ id }, { signal, context }))),
      rename: (id, name, o) =>
        call(o, async (signal, context) => toConversation(await trpc.conversations.rename.mutate({ id, name }, { signal, context }))),
      delete: (id, o) =>
        call(o, async (signal, context) => {
          await trpc.conversations.delete.mutate({ id }, { signal, context });
        }),
    },
    messages: {
      list: listMessages,
      iterate: (conversationId, params = {}, o) =>
        paginate((cursor) => listMessages(conversationId, { ...params, ...(cursor ? { cursor } : {}) }, o)),
    },
    files: {
      // Idempotent: the server returns the existing record for the same user, path and content.
      uploadPaths: (paths, o) =>
        call(o, async (signal, context) => (await trpc.files.uploadPaths.mutate({ paths }, { signal, context })).map(toFile)),
      // Idempotent too (same user, content and name → the same record); the form is rebuilt per try.
      upload: (data, nameOrOptions) => {
        const o: UploadOptions = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : (nameOrOptions ?? {});
        // With a progress callback the upload runs on its own transport, whose fetch reports progress.
        const onProgress = o.onProgress;
        const transport = onProgress ? createTransport({ baseUrl: options.baseUrl, headers, fetch: progressFetch(baseFetch, onProgress) }) : trpc;
        return runCall(plan(o, { limit: 'none' }), async ({ signal, context }) =>
          toFile(await transport.files.upload.mutate(uploadForm(data, o.name), { signal, context })),
        );
      },
      list: listFiles,
      iterate: (params = {}, o) => paginate((cursor) => listFiles({ ...params, ...(cursor ? { cursor } : {}) }, o)),
      get: (id, o) => call(o, async (signal, context) => toFile(await trpc.files.get.query({ id }, { signal, context }))),
      delete: (id, o) =>
        call(o, async (signal, context) => {
          await trpc.files.delete.mutate({ id }, { signal, context });
        }),
    },
    agents: {
      list: (o) => call(o, (signal, context) => trpc.agents.list.query(undefined, { signal, context })),
    },
    whoami: (o) => call(o, (signal, context) => trpc.session.whoami.query(undefined, { signal, context })),
    converse(input, o = {}) {
      let turn: PreparedTurn;
      try {
        turn = prepareTurn(input);
      } catch (err) {
        return runCall(plan(o), () => Promise.reject(err));
      }
      return runCall(plan(o, { turn: turn.ids }), async ({ signal, context, index }) => {
        try {
          return toAnswer(await trpc.chat.converse.mutate(turn.wire, { signal, context }));
        } catch (raw) {
          const err = toColloquyError(raw);
          if (!(index > 0 && err instanceof ConflictError)) throw raw;
          // An earlier try may have started this turn (its answer was lost): follow it to its end.
          return streamOf(turn.ids.messageId, { signal, headers: o.headers }, {
            conversationId: turn.ids.conversationId,
            after: 0,
            start: async () => ({ conversationId: turn.ids.conversationId, unconfirmed: err }),
          }).final();
        }
      });
    },
    stream(input, o = {}) {
      let turn: PreparedTurn;
      try {
        turn = prepareTurn(input);
      } catch (err) {
        return failedStream(err);
      }
      return streamOf(turn.ids.messageId, o, {
        conversationId: turn.ids.conversationId,
        after: 0,
        start: (signal) => startTurn(turn, o, signal),
      });
    },
    resume(messageId, o = {}) {
      const after = o.lastEventId === undefined ? 0 : Number(o.lastEventId);
      if (!Number.isSafeInteger(after) || after < 0) {
        return failedStream(new BadRequestError(`lastEventId must be an event id, not ${JSON.stringify(o.lastEventId)}`, { status: 0, code: 'BAD_REQUEST' }));
      }
      // Read from the first event, so `final()` is the whole answer; the iterator skips to `after`.
      return streamOf(messageId, o, { conversationId: undefined, after, start: undefined });
    },
    stop,
    clientId,
    clients: {
      list: (o) => call(o, async (signal, context) => toClientList(await trpc.clients.list.query(undefined, { signal, context }))),
      watch: (watchOptions = {}) => {
        const watch: ClientWatch = new ClientWatch(trpc, { ...watchOptions, onClose: () => watches.delete(watch) });
        if (!watchOptions.signal?.aborted) watches.add(watch);
        return watch;
      },
      ready: () =>
        presence?.ready() ??
        Promise.reject(
          new ColloquyError('presence is off for this client (pass presence: true, or a kind or name)', { status: 0, code: 'PRESENCE_OFF' }),
        ),
    },
    video,
    close: async () => {
      presence?.close();
      for (const watch of watches) watch.close();
      watches.clear();
    },
  };
}

/** Every item of a paged list, page after page. */
async function* paginate<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const { items, nextCursor } = await page(cursor);
    yield* items;
    cursor = nextCursor ?? undefined;
  } while (cursor);
}

/** The multipart form `files.upload` takes: the content as the `file` part, under its name. */
function uploadForm(data: UploadData, name: string | undefined): FormData {
  const blob = data instanceof Blob ? data : new Blob([data as BlobPart]);
  const fileName = name ?? (typeof File !== 'undefined' && data instanceof File ? data.name : 'upload');
  const form = new FormData();
  form.append('file', blob, fileName);
  return form;
}
