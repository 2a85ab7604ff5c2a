import { EventEmitter } from 'node:events';
import type { UpstreamError } from './errors.ts';

/**
 * What undici's `request` watches to abort a request: it takes an EventEmitter with `aborted`,
 * `reason` and an 'abort' event as well as an AbortSignal. One is alive per open stream, and in
 * Node 20 an AbortController's signal is an EventTarget with two maps and a hidden class of its
 * own (~0.8 KB with a listener); this is about half of that.
 */
export class RequestSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  /** Aborts once (later calls keep the first reason), telling undici at once. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/**
 * The abort signal of one upstream request (its headers and its body): aborted when the turn's
 * signal aborts, or by a re-armable timer. The request is sent with this signal, so a stop or a
 * timeout closes the connection instead of leaving a read pending.
 *
 * It is cheap on purpose, as it runs per request and is re-armed per chunk: one RequestSignal
 * (no AbortController, no `AbortSignal.any`), one listener on the turn's signal (removed by
 * `release`, so a long conversation does not pile listeners up), and one timer that is
 * refreshed rather than replaced.
 */
export class Deadline {
  readonly #signal = new RequestSignal();
  readonly #turn: AbortSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerMs = 0;
  /** What the timer aborts with; undefined while paused (the timer may still fire, and is ignored). */
  #error: (() => UpstreamError) | undefined;
  #expired: UpstreamError | undefined;

  /** `turn`: the signal that stops the whole turn; none for side requests with only a timeout. */
  constructor(turn?: AbortSignal) {
    this.#turn = turn;
    if (turn?.aborted) this.#signal.abort(turn.reason);
    // `this` is the listener (see handleEvent): no closure per request.
    else turn?.addEventListener('abort', this);
  }

  get signal(): RequestSignal {
    return this.#signal;
  }

  /** The timeout error, once the deadline has passed. */
  get expired(): UpstreamError | undefined {
    return this.#expired;
  }

  /** Aborts the request with `error()` unless it is re-armed, paused or released within `ms`. */
  arm(ms: number, error: () => UpstreamError): void {
    if (this.#signal.aborted) return;
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
    this.#signal.abort(this.#turn?.reason);
  }

  /** The timer fired (static, with the deadline as argument: no closure per request). */
  static #expire(deadline: Deadline): void {
    const error = deadline.#error;
    if (error === undefined) return;
    deadline.#error = undefined;
    deadline.#expired = error();
    deadline.#signal.abort(deadline.#expired);
  }
}
