import type { SqliteDriverName } from './sqlite/sqlite-driver.ts';

/**
 * Persistence contract. Every implementation (SQLite on either driver, PostgreSQL) must pass
 * `runStoreContract` in ./contract. Timestamps are epoch milliseconds; JSON columns are
 * decoded into plain values before they leave the store.
 */

export type MessageRole = 'user' | 'assistant';
/** How a message's stream stands or ended — declared here once; the api's zod enum is built from it. */
export const MESSAGE_STATUSES = ['streaming', 'complete', 'stopped', 'interrupted', 'error'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * A conversation is named by its user and its id: ids are chosen by clients, so each user has
 * ids of their own (two users may both have a conversation `conv456`, unrelated).
 */
export interface ConversationRecord {
  id: string;
  userId: string;
  agentId: string;
  name: string;
  managerId: string | null;
  upstreamId: string | null;
  /** App inputs (Dify's `inputs`) given when the conversation was started; `{}` when none. */
  inputs: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface Citation {
  fileId: string | null;
  fileName: string;
  passage: string;
  score: number;
}

export interface MessageRecord {
  id: string;
  /** The owner of the message's conversation (with `conversationId`, the conversation's key). */
  userId: string;
  conversationId: string;
  role: MessageRole;
  content: string;
  fileIds: string[];
  status: MessageStatus;
  usage: Usage | null;
  citations: Citation[];
  error: string | null;
  /** Id of the last stream event of this message; lets a late re-attach resume correctly. */
  lastEventId: number;
  createdAt: number;
  updatedAt: number;
}

/** A message as history needs it (see MessageStore.historyPage). */
export interface HistoryEntry {
  /** The message's position in its conversation: the cursor of the next page. */
  seq: number;
  role: MessageRole;
  content: string;
  status: MessageStatus;
}

/** A message as a history window's refresh needs it (see MessageStore.historySince). */
export interface HistoryDelta extends HistoryEntry {
  fileIds: string[];
}

export type FileOriginKind = 'path' | 'upload';

/** What a file is, without its extracted text (which may be megabytes): what lists and lookups return. */
export interface FileSummary {
  id: string;
  userId: string;
  name: string;
  size: number;
  mimeType: string;
  sha256: string;
  originKind: FileOriginKind;
  /** The string the client used to name the file (its path at upload); converse may refer to it. */
  origin: string;
  /** Ids the file has at upstream agents, keyed by agent id. */
  upstreamIds: Record<string, string>;
  createdAt: number;
  /** Whether text was extracted from it. */
  hasText: boolean;
}

/** A file with its extracted text: what a turn hands its agent, and what is stored. */
export interface FileRecord extends Omit<FileSummary, 'hasText'> {
  /** Extracted plain text (empty when the type has no text extractor). */
  text: string;
}

/** Position after which the next page starts (keyset pagination, never OFFSET). */
export interface ConversationCursor {
  updatedAt: number;
  id: string;
  /** Breaks ties between users' conversations of the same id and time (listing every user's). */
  userId?: string;
}

export interface ListConversationsQuery {
  /** Omit to list every user's conversations. */
  userId?: string;
  managerId?: string;
  limit: number;
  after?: ConversationCursor;
}

export interface ListMessagesQuery {
  userId: string;
  conversationId: string;
  limit: number;
  /** Message id after which the page starts (oldest first). */
  afterId?: string;
  /**
   * Message id before which the page ends: the `limit` messages just before it (the last
   * `limit` of the conversation when `fromEnd` is set without it), still oldest first.
   */
  beforeId?: string;
  /** Page backwards from the end of the conversation (implied by `beforeId`). */
  fromEnd?: boolean;
}

export interface ConversationPatch {
  name?: string;
  agentId?: string;
  upstreamId?: string | null;
  updatedAt?: number;
}

export interface MessagePatch {
  content?: string;
  status?: MessageStatus;
  usage?: Usage | null;
  citations?: Citation[];
  error?: string | null;
  lastEventId?: number;
  updatedAt?: number;
}

/** A conversation to create; `inputs` defaults to `{}`. */
export type NewConversation = Omit<ConversationRecord, 'inputs'> & { inputs?: Record<string, unknown> };
export type NewMessage = MessageRecord;
export type NewFile = FileRecord;

/** What `beginTurn` writes atomically: the conversation (created or touched) and both messages. */
export interface BeginTurn {
  conversation: { create: NewConversation } | { touch: { userId: string; id: string; updatedAt: number; name?: string } };
  userMessage: NewMessage;
  assistantMessage: NewMessage;
  /** The instance that runs the turn (recorded on the assistant message; see InstanceStore). */
  ownerInstance?: string;
}

/** A running server process, as its lease row records it. */
export interface InstanceRecord {
  id: string;
  /** Host, boot and pid namespace: instances with the same key can check each other's pid. */
  machine: string;
  pid: number;
  startedAt: number;
  /** The lease ends here unless renewed (epoch ms). */
  expiresAt: number;
}

/** A message a dead instance left `streaming`, now `interrupted`. */
export interface InterruptedMessage {
  id: string;
  conversationId: string;
}

/**
 * Instance leases: each server process renews its row; a turn records its owner, and only the
 * turns of an owner that is gone (lease expired, row missing, or its process known dead) are
 * marked `interrupted` — by whichever instance notices first.
 */
export interface InstanceStore {
  /** Creates or renews the instance's lease. */
  renew(instance: InstanceRecord): Promise<void>;
  list(): Promise<InstanceRecord[]>;
  /** Removes lease rows (an instance that shut down, or dead ones after their turns were recovered). */
  remove(ids: string[]): Promise<void>;
}

export interface ConversationStore {
  /** The user's conversation with this id. */
  get(userId: string, id: string): Promise<ConversationRecord | undefined>;
  /**
   * Conversations with this id, whoever's, at most `limit` (for callers that see every user:
   * more than one means the id alone does not say which).
   */
  findById(id: string, limit: number): Promise<ConversationRecord[]>;
  list(query: ListConversationsQuery): Promise<ConversationRecord[]>;
  /** The user's most recently used conversation: the "current conversation" rule. */
  latestForUser(userId: string): Promise<ConversationRecord | undefined>;
  create(conversation: NewConversation): Promise<ConversationRecord>;
  update(userId: string, id: string, patch: ConversationPatch): Promise<ConversationRecord | undefined>;
  /** Deletes the conversation and its messages in one transaction. */
  delete(userId: string, id: string): Promise<boolean>;
}

export interface MessageStore {
  get(id: string): Promise<MessageRecord | undefined>;
  list(query: ListMessagesQuery): Promise<MessageRecord[]>;
  /** Every message of a conversation, oldest first. */
  listAll(userId: string, conversationId: string): Promise<MessageRecord[]>;
  /**
   * The file ids of the conversation's messages before `beforeId` that carry files, one list
   * per message, oldest first. Reads only those messages (a partial index holds them), however
   * long the conversation.
   */
  fileIdsBefore(userId: string, conversationId: string, beforeId: string): Promise<string[][]>;
  /**
   * A page of history, newest first: the `limit` messages just before `before` (a message id,
   * or the `seq` cursor of the previous page's last entry), with only what history needs.
   */
  historyPage(userId: string, conversationId: string, before: { id: string } | { seq: number }, limit: number): Promise<HistoryEntry[]>;
  /**
   * What changed in a conversation since a window of it was read (packages/api
   * `turns/history-window.ts`), in one statement: at most `limit` messages from `fromSeq`
   * (inclusive) up to the message `beforeId` (exclusive), oldest first, with what history needs
   * and the file ids; and `settled`, how many messages the conversation has from `windowStart`
   * (inclusive) to `fromSeq` (exclusive).
   */
  historySince(
    userId: string,
    conversationId: string,
    range: { windowStart: number; fromSeq: number },
    beforeId: string,
    limit: number,
  ): Promise<{ settled: number; rows: HistoryDelta[] }>;
  /**
   * Only a message that has not settled changes: one `streaming`, or `interrupted` (the turn of
   * an instance presumed dead may still finish it). Once `complete`, `stopped` or `error`, a
   * message is final until its conversation is deleted; history windows kept between turns rely
   * on this (packages/api `turns/history-window.ts`).
   */
  update(id: string, patch: MessagePatch): Promise<MessageRecord | undefined>;
  /** Marks every message left `streaming` (by a process that died) as `interrupted`. */
  interruptStreaming(now: number): Promise<number>;
  /**
   * Marks `interrupted` the `streaming` messages whose owner is one of `deadOwners`, has no
   * lease row, or is unrecorded (rows from before owners were recorded). Returns them.
   */
  interruptOrphaned(deadOwners: string[], now: number): Promise<InterruptedMessage[]>;
  /** The instance running the message's turn (null when none is recorded); undefined if no such message. */
  ownerOf(id: string): Promise<string | null | undefined>;
}

/**
 * Files. The extracted text is kept apart from the file's other columns and read only by the
 * calls that return a FileRecord (a turn's files); everything else never touches it.
 */
export interface FileStore {
  /** The file with its text. */
  get(id: string): Promise<FileRecord | undefined>;
  /** The file without its text. */
  getSummary(id: string): Promise<FileSummary | undefined>;
  /** Newest file whose origin string equals `origin`, optionally only the user's own (with its text). */
  findByOrigin(origin: string, userId?: string): Promise<FileRecord | undefined>;
  findByOwnerAndContent(userId: string, sha256: string, origin: string): Promise<FileSummary | undefined>;
  list(query: { userId?: string; limit: number; afterId?: string }): Promise<FileSummary[]>;
  /**
   * Inserts a batch in one transaction: all rows or none. A row whose (user, sha256, origin)
   * already exists is skipped: the existing record stands (read it with findByOwnerAndContent).
   */
  insertMany(files: NewFile[]): Promise<void>;
  setUpstreamId(id: string, agentId: string, upstreamId: string): Promise<void>;
  delete(id: string): Promise<boolean>;
  /** How many file records point at this content (blobs are shared by sha256). */
  countBySha256(sha256: string): Promise<number>;
}

/** The library the store talks to its database through (see sqlite/sqlite-driver.ts). */
export type StoreDriver = SqliteDriverName | 'pg';

/**
 * File contents kept in the database by their sha256, in chunks: for instances that share no
 * disk (several instances on PostgreSQL), instead of a directory of one instance's DATA_DIR.
 */
export interface BlobContentStore {
  has(sha256: string): Promise<boolean>;
  /**
   * Stores the content, chunk by chunk, in one transaction (all chunks or none), unless it is
   * already there. Returns whether it was newly written.
   */
  write(sha256: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<boolean>;
  /** The content's chunks in order; none when it is not stored. */
  read(sha256: string): AsyncIterable<Uint8Array>;
  remove(sha256: string): Promise<void>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly driver: StoreDriver;
  conversations: ConversationStore;
  messages: MessageStore;
  files: FileStore;
  instances: InstanceStore;
  blobContents: BlobContentStore;
  /** Creates or touches the conversation and inserts both messages in one transaction. */
  beginTurn(turn: BeginTurn): Promise<void>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
