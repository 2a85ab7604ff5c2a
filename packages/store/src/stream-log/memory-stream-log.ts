import type { StreamEntry, StreamLog } from './types.ts';

export interface MemoryStreamLogOptions {
  /** How long a finished stream stays re-attachable from memory. */
  retentionMs?: number;
  /** At most this many finished streams are retained; the oldest go first. */
  maxFinished?: number;
}

interface StreamState<T> {
  events: T[];
  open: boolean;
  /** Readers waiting for the next event. */
  wake: Set<LocalReader<T>>;
}

/** The in-process log, with synchronous views the shared log builds on. */
export interface MemoryStreamLog<T> extends StreamLog<T> {
  /** Whether the stream is still known (live or finished but not yet expired). */
  has(streamId: string): boolean;
  isOpen(streamId: string): boolean;
  /** The events of a stream held here, in order (event N at index N - 1); empty when unknown. */
  eventsOf(streamId: string): readonly T[];
  /** `read` without the promise: the entries, or undefined for an unknown stream. */
  readLocal(streamId: string, afterId: number, signal?: AbortSignal): AsyncIterable<StreamEntry<T>> | undefined;
}

export function createMemoryStreamLog<T>(options: MemoryStreamLogOptions = {}): MemoryStreamLog<T> {
  const retentionMs = options.retentionMs ?? 5 * 60_000;
  const maxFinished = options.maxFinished ?? 1000;
  const streams = new Map<string, StreamState<T>>();
  // Insertion-ordered: the first entry is the oldest finished stream.
  const finished = new Map<string, NodeJS.Timeout>();

  const expire = (streamId: string) => {
    const timer = finished.get(streamId);
    if (timer) clearTimeout(timer);
    finished.delete(streamId);
    streams.delete(streamId);
  };

  const notify = (state: StreamState<T>) => {
    if (state.wake.size === 0) return;
    const waiters = [...state.wake];
    state.wake.clear();
    for (const w of waiters) w.wake();
  };

  const readLocal = (streamId: string, afterId: number, signal?: AbortSignal) => {
    const state = streams.get(streamId);
    if (!state) return undefined;
    return new LocalReader(state, Math.max(0, Math.floor(afterId)), signal);
  };

  return {
    open(streamId) {
      const existing = streams.get(streamId);
      if (existing?.open) return Promise.reject(new Error(`stream ${streamId} is already open`));
      // A finished stream still retained under this id belongs to a message that is gone (a
      // client-chosen id used again after its conversation was deleted): the new one replaces it.
      if (existing) expire(streamId);
      streams.set(streamId, { events: [], open: true, wake: new Set() });
      return Promise.resolve();
    },
    append(streamId, id, data) {
      const state = streams.get(streamId);
      if (!state?.open) throw new Error(`stream ${streamId} is not open`);
      if (id !== state.events.length + 1) throw new Error(`stream ${streamId}: event ${id} appended after ${state.events.length}`);
      state.events.push(data);
      notify(state);
    },
    close(streamId) {
      const state = streams.get(streamId);
      if (!state?.open) return;
      state.open = false;
      notify(state);
      const timer = setTimeout(() => expire(streamId), retentionMs);
      timer.unref();
      finished.set(streamId, timer);
      while (finished.size > maxFinished) {
        const oldest = finished.keys().next().value;
        if (oldest === undefined) break;
        expire(oldest);
      }
    },
    has(streamId) {
      return streams.has(streamId);
    },
    isOpen(streamId) {
      return streams.get(streamId)?.open ?? false;
    },
    readLocal,
    eventsOf: (streamId) => streams.get(streamId)?.events ?? [],
    read(streamId, afterId, signal) {
      return Promise.resolve(readLocal(streamId, afterId, signal));
    },
    // A dead process's streams were only ever in its own memory.
    endOrphan: () => Promise.resolve(),
    size() {
      return streams.size;
    },
  };
}

/**
 * One reader following a stream held here: an async iterator object rather than an async
 * generator. An open stream waits in `next()` for its whole life; a generator there keeps its
 * object, frame, queued request and the await's promise and closures (heap snapshot at 2,000
 * held streams), this one object and the pending promise. `return()` also ends a reader that
 * is waiting (a generator's would queue behind the wait), so its consumer can stop it without
 * an AbortSignal.
 */
class LocalReader<T> implements AsyncIterableIterator<StreamEntry<T>> {
  /** Index of the next event to deliver (ids are index + 1). */
  #next: number;
  #ended = false;
  /** The pending `next()`'s resolve while it waits for an event. */
  #resolve: ((result: IteratorResult<StreamEntry<T>>) => void) | undefined;

  constructor(
    private readonly state: StreamState<T>,
    afterId: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.#next = afterId;
    if (signal?.aborted) this.#ended = true;
    else signal?.addEventListener('abort', this, { once: true });
  }

  next(): Promise<IteratorResult<StreamEntry<T>>> {
    const result = this.#step();
    if (result) return Promise.resolve(result);
    this.state.wake.add(this);
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The next result if there is one now (an event or the end); undefined: wait. */
  #step(): IteratorResult<StreamEntry<T>> | undefined {
    if (this.#ended) return DONE;
    const { events } = this.state;
    if (this.#next < events.length) {
      const data = events[this.#next] as T;
      this.#next += 1;
      return { value: { id: this.#next, data }, done: false };
    }
    if (!this.state.open) {
      this.#end();
      return DONE;
    }
    return undefined;
  }

  /** An append or the close: answers the waiting `next()`. */
  wake(): void {
    const resolve = this.#resolve;
    if (!resolve) return;
    const result = this.#step();
    if (!result) {
      // Woken without news (cannot happen with one writer, but never lose the waiter).
      this.state.wake.add(this);
      return;
    }
    this.#resolve = undefined;
    resolve(result);
  }

  return(value?: unknown): Promise<IteratorResult<StreamEntry<T>>> {
    this.#end();
    return Promise.resolve({ value: value as undefined, done: true });
  }

  /** The signal aborted (an EventListener object: no closure per reader). */
  handleEvent(): void {
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.state.wake.delete(this);
    this.signal?.removeEventListener('abort', this);
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
