/** One entry of a stream: `id` increases by one per event, starting at 1. */
export interface StreamEntry<T> {
  id: number;
  data: T;
}

/**
 * Append-only, per-stream event log that lets any number of readers follow a live stream and
 * re-attach after a given event id. In-process now; a Redis implementation can follow.
 */
export interface StreamLog<T> {
  /** Starts a stream. Throws when it already exists. */
  open(streamId: string): void;
  /** Appends an event and returns its id. */
  append(streamId: string, data: T): number;
  /** Marks the stream finished; readers drain and end. It expires after the retention time. */
  close(streamId: string): void;
  /** Whether the stream is still known (live or finished but not yet expired). */
  has(streamId: string): boolean;
  isOpen(streamId: string): boolean;
  /**
   * Events after `afterId`, live until the stream closes or `signal` aborts.
   * Undefined when the stream is unknown or expired.
   */
  read(streamId: string, afterId: number, signal?: AbortSignal): AsyncIterable<StreamEntry<T>> | undefined;
  /** Number of streams held in memory (live + retained). */
  size(): number;
}
