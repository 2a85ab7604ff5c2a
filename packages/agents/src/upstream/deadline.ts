import type { UpstreamError } from './errors.ts';

/**
 * The abort signal of one upstream request (its headers and its body): aborted when the turn's
 * signal aborts, or by a re-armable timer. The request is sent with this signal, so a stop or a
 * timeout closes the connection instead of leaving a read pending.
 *
 * It is cheap on purpose, as it runs per request and is re-armed per chunk: one AbortController
 * (no `AbortSignal.any`), one listener on the turn's signal (removed by `release`, so a long
 * conversation does not pile listeners up), and one timer that is refreshed rather than replaced.
 */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #turn: AbortSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerMs = 0;
  /** What the timer aborts with; undefined while paused (the timer may still fire, and is ignored). */
  #error: (() => UpstreamError) | undefined;
  #expired: UpstreamError | undefined;

  /** `turn`: the signal that stops the whole turn; none for side requests with only a timeout. */
  constructor(turn?: AbortSignal) {
    this.#turn = turn;
    if (turn?.aborted) this.#controller.abort(turn.reason);
    // `this` is the listener (see handleEvent): no closure per request.
    else turn?.addEventListener('abort', this);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The timeout error, once the deadline has passed. */
  get expired(): UpstreamError | undefined {
    return this.#expired;
  }

  /** Aborts the request with `error()` unless it is re-armed, paused or released within `ms`. */
  arm(ms: number, error: () => UpstreamError): void {
    if (this.#controller.signal.aborted) return;
    this.#error = error;
    if (this.#timer !== undefined && this.#timerMs === ms) {
      // Restarts the countdown, also after the timer fired while paused.
      this.#timer.refresh();
    } else {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timerMs = ms;
      this.#timer = setTimeout(Deadline.#expire, ms, this);
    }
  }

  /** Stops the countdown until the next `arm`: time the consumer spends does not count. */
  pause(): void {
    this.#error = undefined;
  }

  /** The request is over: drops the timer and the listener on the turn's signal. Idempotent. */
  release(): void {
    this.#error = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#turn?.removeEventListener('abort', this);
  }

  /** The turn's signal aborted: abort the request with the same reason (an EventListener object). */
  handleEvent(): void {
    this.#controller.abort(this.#turn?.reason);
  }

  /** The timer fired (static, with the deadline as argument: no closure per request). */
  static #expire(deadline: Deadline): void {
    const error = deadline.#error;
    if (error === undefined) return;
    deadline.#error = undefined;
    deadline.#expired = error();
    deadline.#controller.abort(deadline.#expired);
  }
}
