export interface PingEvent {
  event: 'ping';
}

const PING: IteratorYieldResult<PingEvent> = Object.freeze({ value: Object.freeze({ event: 'ping' as const }), done: false as const });
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true as const });

/**
 * Runs `start(signal)` and passes its events through, adding a `ping` whenever nothing was
 * yielded for `intervalMs` (while connecting, backing off or reading), so callers can keep
 * their own client connections alive. Abandoning the result (`return()`) aborts `signal`.
 *
 * Runs once per event of every stream, so it allocates little: one timer for the whole run,
 * restarted with `refresh()` each time we start waiting (time the consumer spends is not
 * silence), and one AbortController wired to `outer` by a listener that is removed at the end.
 */
export function withPings<T>(
  outer: AbortSignal,
  intervalMs: number,
  start: (signal: AbortSignal) => AsyncIterator<T>,
): AsyncIterableIterator<T | PingEvent> {
  return new PingingStream(outer, intervalMs, start);
}

/**
 * `withPings` as an iterator object rather than an async generator: an open stream waits in
 * `next()` for its whole life, and a generator there keeps its object, frame, queued request and
 * the await's promise and closures; this keeps one object, the consumer's promise and one
 * reaction on the source's step (heap snapshot at 2,000 held streams).
 */
class PingingStream<T> implements AsyncIterableIterator<T | PingEvent> {
  readonly #outer: AbortSignal;
  readonly #local = new AbortController();
  readonly #source: AsyncIterator<T>;
  readonly #timer: NodeJS.Timeout;
  /** The source's step not yet passed on (still outstanding after a ping). */
  #pending: Promise<IteratorResult<T>> | undefined;
  /** The waiting `next()`'s resolve; set only while it waits. */
  #resolve: ((result: IteratorResult<T | PingEvent>) => void) | undefined;
  #closed = false;

  constructor(outer: AbortSignal, intervalMs: number, start: (signal: AbortSignal) => AsyncIterator<T>) {
    this.#outer = outer;
    // `this` is the listener (handleEvent): no closure per stream.
    if (outer.aborted) this.handleEvent();
    else outer.addEventListener('abort', this, { once: true });
    this.#timer = setTimeout(PingingStream.#tick, intervalMs, this);
    this.#source = start(this.#local.signal);
  }

  next(): Promise<IteratorResult<T | PingEvent>> {
    if (this.#closed) return Promise.resolve(DONE);
    const step = (this.#pending ??= this.#source.next());
    this.#timer.refresh();
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      // Reactions of earlier calls (answered by a ping) may fire too: only the waiting one acts.
      step.then(
        (result) => {
          if (this.#resolve !== resolve) return;
          this.#settle();
          this.#pending = undefined;
          if (result.done) {
            void this.#close(false);
            resolve(DONE);
          } else resolve(result);
        },
        (err: unknown) => {
          if (this.#resolve !== resolve) return;
          this.#settle();
          // As a generator's `finally` would: stop the source, then throw.
          this.#close(true).then(() => reject(err), () => reject(err));
        },
      );
    });
  }

  /** The consumer stopped early: make the source's pending step fail fast, then close it. */
  async return(): Promise<IteratorResult<T | PingEvent>> {
    const resolve = this.#resolve;
    this.#settle();
    resolve?.(DONE);
    await this.#close(true);
    return DONE;
  }

  /** `outer` aborted (an EventListener object). */
  handleEvent(): void {
    this.#local.abort(this.#outer.reason);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #settle(): void {
    this.#resolve = undefined;
  }

  async #close(early: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#outer.removeEventListener('abort', this);
    if (!early) return;
    this.#local.abort();
    await this.#pending?.catch(() => undefined);
    await this.#source.return?.(undefined).catch(() => undefined);
  }

  /** Nothing came for `intervalMs` while waiting: answer the wait with a ping (static: no closure per stream). */
  static #tick<T>(stream: PingingStream<T>): void {
    const resolve = stream.#resolve;
    if (!resolve) return;
    stream.#settle();
    resolve(PING);
  }
}
