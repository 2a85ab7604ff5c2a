/**
 * When streaming answers are written to the store: each answer at most `intervalMs` after it
 * changed, with one timer for every answer instead of one interval per turn.
 *
 * Flushes are spread over time rather than run in one burst: the timer ticks ten times per
 * interval and flushes only the answers that changed about an interval ago. At 10,000 open
 * streams, flushing every changed answer on the same tick would block the event loop for as long
 * as a thousand or more store writes take.
 */
export interface FlushScheduler {
  /** `flush` will run within `intervalMs` (once, however often this is called until then). */
  mark(key: string, flush: () => void): void;
  /** Forgets a pending flush (the turn is ending and writes its final state itself). */
  cancel(key: string): void;
}

const TICKS_PER_INTERVAL = 10;

export function createFlushScheduler(intervalMs: number): FlushScheduler {
  /** Pending flushes in the order they were first marked (a Map keeps insertion order). */
  const pending = new Map<string, { since: number; flush: () => void }>();
  const tickMs = Math.max(1, intervalMs / TICKS_PER_INTERVAL);
  let timer: ReturnType<typeof setInterval> | undefined;

  const tick = () => {
    // Due: marked at least an interval minus one tick ago, so none waits longer than the interval.
    const dueBefore = performance.now() - (intervalMs - tickMs);
    for (const [key, entry] of pending) {
      if (entry.since > dueBefore) break;
      pending.delete(key);
      entry.flush();
    }
    if (pending.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    mark(key, flush) {
      const entry = pending.get(key);
      if (entry) entry.flush = flush;
      else pending.set(key, { since: performance.now(), flush });
      timer ??= setInterval(tick, tickMs);
    },
    cancel(key) {
      pending.delete(key);
    },
  };
}
