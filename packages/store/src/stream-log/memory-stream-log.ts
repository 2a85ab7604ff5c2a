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

export function createMemoryStreamLog<T>(options: MemoryStreamLogOptions = {}): StreamLog<T> {
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

  return {
    open(streamId) {
      if (streams.has(streamId)) throw new Error(`stream ${streamId} already exists`);
      streams.set(streamId, { events: [], open: true, wake: new Set() });
    },
    append(streamId, data) {
      const state = streams.get(streamId);
      if (!state?.open) throw new Error(`stream ${streamId} is not open`);
      state.events.push(data);
      notify(state);
      return state.events.length;
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
    read(streamId, afterId, signal) {
      const state = streams.get(streamId);
      if (!state) return undefined;
      return follow(state, Math.max(0, Math.floor(afterId)), signal);
    },
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
