/**
 * Who is connected right now: one record per live client (an SDK client, a web console, a
 * device publishing video). In-process by default, or shared by every instance through Redis
 * (`createRedisPresence`). Reads and `attach` return promises (they may need every instance's
 * view); the other writes do not: they are about connections this process holds, or are
 * forwarded to the instance holding the client in the background.
 *
 * Timestamps are epoch milliseconds.
 */
export interface ClientDetails {
  /** What the client is: `sdk`, `console`, `device`, … (free-form, short). */
  kind: string;
  name: string | null;
  ip: string | null;
  userAgent: string | null;
  /** A small JSON object the client chose to describe itself (size-limited by the caller). */
  metadata: Record<string, unknown>;
}

/**
 * A client is named by its user and its id: ids are chosen by clients, so each user has ids of
 * their own (no user can take, or learn of, another user's client by its id).
 */
export interface ClientRecord extends ClientDetails {
  id: string;
  userId: string;
  connectedAt: number;
  /** The last sign of life: a heartbeat, a request naming the client, a video frame. */
  lastSeen: number;
  /** The client's open answer streams (requests that named it in `X-Colloquy-Client`). */
  openStreams: number;
  /** Whether the client is publishing a live video stream right now. */
  publishing: boolean;
}

/** Why a client left. */
export type LeaveReason = 'closed' | 'timeout' | 'shutdown';

export type PresenceEvent =
  | { type: 'joined'; client: ClientRecord }
  | { type: 'changed'; client: ClientRecord }
  | { type: 'left'; client: ClientRecord; reason: LeaveReason };

/**
 * One connection's hold on a client record (a presence subscription, a video publisher's
 * socket). A record exists while at least one lease holds it and it keeps showing signs of life.
 */
export interface PresenceLease {
  readonly userId: string;
  readonly clientId: string;
  /**
   * Aborted when the record goes away for any reason other than this lease's own `release()`
   * (it timed out, the registry shut down): the connection holding the lease should end.
   */
  readonly signal: AbortSignal;
  /** Lets go of the record; the last lease to go removes it (`left`, reason `closed`). */
  release(): void;
}

export interface AttachInput {
  id: string;
  userId: string;
  /**
   * Details for the record. A new record takes them (missing ones default: kind `unknown`,
   * metadata `{}`); an existing one takes them only with `overwrite`.
   */
  details?: Partial<ClientDetails>;
  overwrite?: boolean;
}

/** The user already has the maximum number of connected clients. */
export class PresenceLimitError extends Error {
  override readonly name = 'PresenceLimitError';
}

export interface PresenceRegistry {
  /**
   * Holds the user's record `id` (creating it: `joined`). Throws PresenceLimitError when the
   * user is at its limit of clients.
   */
  attach(input: AttachInput): Promise<PresenceLease>;
  /**
   * A sign of life from the client (no event), wherever its connection is held. False when the
   * client is unknown.
   */
  touch(userId: string, id: string): Promise<boolean>;
  /** Sets whether the client publishes video (`changed` when it changes). */
  setPublishing(userId: string, id: string, publishing: boolean): void;
  /** One more (+1) or one fewer (-1) open stream for the client (`changed`), wherever it is held. Unknown clients are ignored. */
  adjustStreams(userId: string, id: string, delta: number): void;
  get(userId: string, id: string): Promise<ClientRecord | undefined>;
  /**
   * Clients with this id, whoever's, at most `limit` (for callers that see every user: more
   * than one means the id alone does not say which).
   */
  findById(id: string, limit: number): Promise<ClientRecord[]>;
  /** Every client, or one user's; oldest connection first. */
  list(userId?: string): Promise<ClientRecord[]>;
  /** Connected clients in this process (cheap, synchronous: for metrics). */
  count(): number;
  /** Publishing clients in this process (for metrics). */
  publishingCount(): number;
  /** Calls `listener` for every join, change and leave, until the returned function is called. */
  watch(listener: (event: PresenceEvent) => void): () => void;
  /**
   * Removes clients with no sign of life for the stale time (`left`, reason `timeout`), and
   * the clients of instances that are gone. Runs by itself too.
   */
  sweep(now?: number): number;
  /** Removes every client (`left`, reason `shutdown`, their leases aborted) and stops sweeping. */
  close(): void;
}
