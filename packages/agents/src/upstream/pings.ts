export interface PingEvent {
  event: 'ping';
}

const PING: PingEvent = { event: 'ping' };
const TICK = Symbol('tick');

type Wake = (value: typeof TICK) => void;

/**
 * Runs `start(signal)` and passes its events through, adding a `ping` whenever nothing was
 * yielded for `intervalMs` (while connecting, backing off or reading), so callers can keep
 * their own client connections alive. Abandoning the result aborts `signal`.
 *
 * Runs once per event of every stream, so it allocates little: one timer for the whole run,
 * restarted with `refresh()` each time we start waiting (time the consumer spends is not
 * silence), and one AbortController wired to `outer` by a listener that is removed at the end.
 */
export async function* withPings<T>(
  outer: AbortSignal,
  intervalMs: number,
  start: (signal: AbortSignal) => AsyncGenerator<T>,
): AsyncGenerator<T | PingEvent> {
  const local = new AbortController();
  // A listener object rather than a named arrow: tsx (esbuild's keepNames) names those with
  // defineProperty, which gives the closure a dictionary of its own, kept for the whole run.
  const forward = {
    handleEvent(): void {
      local.abort(outer.reason);
    },
  };
  if (outer.aborted) forward.handleEvent();
  else outer.addEventListener('abort', forward, { once: true });

  // Resolves the current wait with TICK; set only while we wait on the source.
  let wake: Wake | undefined;
  const timer = setTimeout(() => wake?.(TICK), intervalMs);
  const source = start(local.signal);
  let pending: Promise<IteratorResult<T>> | undefined;
  let finished = false;
  try {
    while (true) {
      const step = pending ?? source.next();
      pending = step;
      timer.refresh();
      const result = await new Promise<IteratorResult<T> | typeof TICK>((resolve, reject) => {
        wake = resolve;
        step.then(resolve, reject);
      });
      wake = undefined;
      if (result === TICK) {
        yield PING;
        continue;
      }
      pending = undefined;
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', forward);
    if (!finished) {
      // The consumer stopped early: make the source's pending step fail fast, then close it.
      local.abort();
      await pending?.catch(() => undefined);
      await source.return(undefined).catch(() => undefined);
    }
  }
}
