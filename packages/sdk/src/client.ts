import { AnswerStream } from './answer-stream.ts';
import { ClientWatch, PresenceConnection, type JsonValue } from './presence.ts';
import { ColloquyError } from './errors.ts';
import { defaultRetryPolicy, once, withRetry, type RetryPolicy } from './retry.ts';
import { createTransport } from './transport/create-trpc-client.ts';
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
  MessagePage,
} from './types.ts';

export interface ClientOptions {
  /** Where the server runs, e.g. `http://localhost:5000`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** The user every call acts for (servers without API keys tell users apart by this). */
  user?: string;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof globalThis.fetch;
  /** Retries of idempotent calls on connection errors, 429 and 5xx. Default 2. */
  maxRetries?: number;
  /** Timeout of one call in ms (not of streams). Default 60 000. */
  timeoutMs?: number;
  /** Consecutive re-attach attempts a stream makes after its connection drops. Default 5. */
  maxReconnects?: number;
  /**
   * Keep a presence connection while the client is open, so it is listed among the connected
   * clients (default true). Call `close()` when done: the open connection keeps a Node process
   * running.
   */
  presence?: boolean;
  /** How this client is listed: its kind (default `sdk`), a name and a small metadata object (≤ 2 KB JSON). */
  kind?: string;
  name?: string;
  metadata?: Record<string, JsonValue>;
  /** This client's id (default: a random UUID). Sent on every request as `X-Colloquy-Client`. */
  clientId?: string;
  /**
   * The WebSocket implementation for live video. Default: the global WebSocket (browsers,
   * Node >= 22), else the `ws` package. One that accepts `{headers}` sends the API key as a
   * header; the browser's gets it as a `token` query parameter.
   */
  webSocket?: WebSocketConstructor;
}

export interface ResumeOptions {
  /** The last event id already seen; the stream continues after it. */
  lastEventId?: string;
}

export interface ColloquyClient {
  conversations: {
    /** One page, newest first. */
    list(params?: ListConversationsParams): Promise<ConversationPage>;
    /** Every conversation, page after page. */
    iterate(params?: Omit<ListConversationsParams, 'cursor'>): AsyncIterable<Conversation>;
    get(id: string): Promise<Conversation>;
    rename(id: string, name: string): Promise<Conversation>;
    delete(id: string): Promise<void>;
  };
  messages: {
    /** One page of a conversation's messages, oldest first. */
    list(conversationId: string, params?: ListMessagesParams): Promise<MessagePage>;
  };
  files: {
    /** Stores files the server can read by path (as `POST /upload_files`). */
    uploadPaths(paths: string[]): Promise<FileInfo[]>;
    /**
     * Uploads a file's content (as `POST /files`). `name` is the stored name (default: the
     * File's own name, else `upload`); a turn may then name the file by its id or that name.
     */
    upload(data: Blob | File | Uint8Array | ArrayBuffer, name?: string): Promise<FileInfo>;
    list(params?: ListFilesParams): Promise<FilePage>;
    get(id: string): Promise<FileInfo>;
    delete(id: string): Promise<void>;
  };
  agents: {
    list(): Promise<AgentInfo[]>;
  };
  /** Runs a turn to its end and returns the answer. Never retried (it is not idempotent). */
  converse(input: ConverseInput): Promise<Answer>;
  /** Starts a turn and streams its events. */
  stream(input: ConverseInput): AnswerStream;
  /** Re-attaches to a message's stream, e.g. after a restart of the client. */
  resume(messageId: string, options?: ResumeOptions): AnswerStream;
  /** This client's id: how it is listed, and what viewers watch when it publishes video. */
  readonly clientId: string;
  clients: {
    /** The connected clients this caller may see (its user's; all for an admin key). */
    list(): Promise<ClientList>;
    /** A snapshot of the visible clients, then every join, change and leave, until closed. */
    watch(options?: { signal?: AbortSignal }): ClientWatch;
    /** Resolves once this client's presence connection is registered (rejects with `presence: false`). */
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
  const clientId = options.clientId ?? randomClientId();
  headers['x-colloquy-client'] = clientId;
  const trpc = createTransport({
    baseUrl: options.baseUrl,
    headers,
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  const policy: RetryPolicy = { ...defaultRetryPolicy, maxRetries: options.maxRetries ?? defaultRetryPolicy.maxRetries };
  const retry = <T>(call: () => Promise<T>) => withRetry(policy, call);
  const streamOptions = { trpc, policy, maxReconnects: options.maxReconnects ?? 5 };
  const presence =
    options.presence === false
      ? undefined
      : new PresenceConnection(trpc, clientId, { kind: options.kind, name: options.name, metadata: options.metadata });
  const watches = new Set<ClientWatch>();
  const video = new Video({
    baseUrl: options.baseUrl,
    clientId,
    apiKey: options.apiKey,
    user: options.user,
    headers,
    webSocket: options.webSocket,
  });

  return {
    conversations: {
      list: (params = {}) => retry(() => trpc.conversations.list.query(params)),
      async *iterate(params = {}) {
        let cursor: string | undefined;
        do {
          const page: ConversationPage = await retry(() => trpc.conversations.list.query({ ...params, cursor }));
          yield* page.items;
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
      },
      get: (id) => retry(() => trpc.conversations.get.query({ id })),
      rename: (id, name) => retry(() => trpc.conversations.rename.mutate({ id, name })),
      delete: async (id) => {
        await retry(() => trpc.conversations.delete.mutate({ id }));
      },
    },
    messages: {
      list: (conversationId, params = {}) => retry(() => trpc.messages.list.query({ ...params, conversationId })),
    },
    files: {
      // Idempotent: the server returns the existing record for the same user, path and content.
      uploadPaths: (paths) => retry(() => trpc.files.uploadPaths.mutate({ paths })),
      // Idempotent too (same user, content and name → the same record); the form is rebuilt per try.
      upload: (data, name) => retry(() => trpc.files.upload.mutate(uploadForm(data, name))),
      list: (params = {}) => retry(() => trpc.files.list.query(params)),
      get: (id) => retry(() => trpc.files.get.query({ id })),
      delete: async (id) => {
        await retry(() => trpc.files.delete.mutate({ id }));
      },
    },
    agents: {
      list: () => retry(() => trpc.agents.list.query()),
    },
    converse: (input) => once(() => trpc.chat.converse.mutate(input)),
    stream: (input) =>
      new AnswerStream({
        ...streamOptions,
        // `send` is never retried blindly: once the turn has started it is re-attached instead.
        start: () => once(() => trpc.chat.send.mutate(input)),
      }),
    resume: (messageId, resumeOptions = {}) =>
      new AnswerStream({
        ...streamOptions,
        start: () => Promise.resolve({ messageId }),
        lastEventId: resumeOptions.lastEventId,
      }),
    clientId,
    clients: {
      list: () => retry(() => trpc.clients.list.query()),
      watch: (watchOptions = {}) => {
        const watch = new ClientWatch(trpc, watchOptions.signal);
        watches.add(watch);
        return watch;
      },
      ready: () => presence?.ready() ?? Promise.reject(new ColloquyError('presence is off for this client', { status: 0, code: 'PRESENCE_OFF' })),
    },
    video,
    close: async () => {
      presence?.close();
      for (const watch of watches) watch.close();
      watches.clear();
    },
  };
}

/** The multipart form `files.upload` takes: the content as the `file` part, under its name. */
function uploadForm(data: Blob | File | Uint8Array | ArrayBuffer, name: string | undefined): FormData {
  const blob = data instanceof Blob ? data : new Blob([data as BlobPart]);
  const fileName = name ?? (typeof File !== 'undefined' && data instanceof File ? data.name : 'upload');
  const form = new FormData();
  form.append('file', blob, fileName);
  return form;
}

/**
 * A random UUID. `crypto.randomUUID` exists only in secure contexts in browsers (https,
 * localhost); `getRandomValues` exists everywhere.
 */
function randomClientId(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
