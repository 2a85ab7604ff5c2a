/** One entry of a stream: `id` increases by one per event, starting at 1. */
export interface StreamEntry<T> {
  id: number;
  data: T;
}

/**
 * Append-only, per-stream event log that lets any number of readers follow a live stream and
 * re-attach after a given event id. In-process (`createMemoryStreamLog`) or shared by every
 * instance through Redis (`createRedisStreamLog`).
 *
 * The writer numbers the events (one writer per stream: the turn that runs it) and appends them
 * in order; the log keeps that number as the entry id, so an id means the same event on every
 * instance and a re-attach after `lastEventId` resumes exactly there.
 */
export interface StreamLog<T> {
  /** Starts a stream; resolves once a reader on any instance can find it. Throws when it exists. */
  open(streamId: string): Promise<void>;
  /** Appends event `id`, which must be the previous id + 1 (the first is 1). */
  append(streamId: string, id: number, data: T): void;
  /** Marks the stream finished; readers drain and end. It expires after the retention time. */
  close(streamId: string): void;
  /**
   * Events after `afterId`, live until the stream closes or `signal` aborts. Undefined when the
   * stream is unknown or expired. Rejects with StreamLogUnavailableError when a shared log
   * cannot be reached (never a reader that hangs).
   */
  read(streamId: string, afterId: number, signal?: AbortSignal): Promise<AsyncIterable<StreamEntry<T>> | undefined>;
  /**
   * Ends a stream whose writer died (its instance is gone): appends the event `last(id)` after
   * whatever the stream holds and closes it, so readers on any instance end. Nothing to do for
   * a stream the log does not hold.
   */
  endOrphan(streamId: string, last: (id: number) => T): Promise<void>;
  /** Streams this process holds in memory (live + retained). */
  size(): number;
}

/** The shared log (Redis) cannot be reached: a reader gets this instead of waiting forever. */
export class StreamLogUnavailableError extends Error {
  override readonly name = 'StreamLogUnavailableError';
}
