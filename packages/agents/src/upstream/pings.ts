export interface PingEvent {
  event: 'ping';
}

const PING: PingEvent = { event: 'ping' };
const TICK = Symbol('tick');

/**
 * Runs `start(signal)` and passes its events through, adding a `ping` whenever nothing was
 * yielded for `intervalMs` (while connecting, backing off or reading), so callers can keep
 * their own client connections alive. Abandoning the result aborts `signal`.
 */
export async function* withPings<T>(
  outer: AbortSignal,
  intervalMs: number,
  start: (signal: AbortSignal) => AsyncGenerator<T>,
): AsyncGenerator<T | PingEvent> {
  const local = new AbortController();
  const source = start(AbortSignal.any([outer, local.signal]));
  let pending: Promise<IteratorResult<T>> | undefined;
  let finished = false;
  try {
    while (true) {
      pending ??= source.next();
      const step = await raceTimer(pending, intervalMs);
      if (step === TICK) {
        yield PING;
        continue;
      }
      pending = undefined;
      if (step.done) {
        finished = true;
        return;
      }
      yield step.value;
    }
  } finally {
    if (!finished) {
      // The consumer stopped early: make the source's pending step fail fast, then close it.
      local.abort();
      await pending?.catch(() => undefined);
      await source.return(undefined).catch(() => undefined);
    }
  }
}

function raceTimer<T>(promise: Promise<T>, ms: number): Promise<T | typeof TICK> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = new Promise<typeof TICK>((resolve) => {
    timer = setTimeout(resolve, ms, TICK);
  });
  return Promise.race([promise, tick]).finally(() => clearTimeout(timer));
}
