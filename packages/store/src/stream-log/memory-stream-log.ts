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
  wake: Set<Waiter>;
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
    return follow(state, Math.max(0, Math.floor(afterId)), signal);
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

async function* follow<T>(state: StreamState<T>, afterId: number, signal?: AbortSignal): AsyncGenerator<StreamEntry<T>> {
  let next = afterId; // index of the next event to deliver (ids are index + 1)
  while (!signal?.aborted) {
    while (next < state.events.length) {
      const data = state.events[next] as T;
      next += 1;
      yield { id: next, data };
      if (signal?.aborted) return;
    }
    if (!state.open) return;
    await new Promise<void>((resolve) => {
      const waiter = new Waiter(state.wake, signal, resolve);
      state.wake.add(waiter);
      signal?.addEventListener('abort', waiter, { once: true });
    });
  }
}

/**
 * A reader waiting for the next event: woken by an append or the close (`wake`), or by its
 * signal (`handleEvent`, as an EventListener object). An object rather than two closures: one
 * is alive per open stream, and under tsx each named closure carries a dictionary for its name.
 */
class Waiter {
  constructor(
    private readonly waiters: Set<Waiter>,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: () => void,
  ) {}

  wake(): void {
    this.signal?.removeEventListener('abort', this);
    this.resolve();
  }

  handleEvent(): void {
    this.waiters.delete(this);
    this.resolve();
  }
}
