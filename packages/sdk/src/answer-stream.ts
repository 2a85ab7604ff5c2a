import type { StreamEvent as WireStreamEvent } from '@colloquy/api';
import type { APIPromise } from './api-promise.ts';
import type { TurnIds } from './call.ts';
import { AbortError, ColloquyError, ConnectionError, isRetryable, NotFoundError, TimeoutError, withTurn } from './errors.ts';
import { backoffDelay, Deadline, MAX_RETRY_AFTER_MS, sleep, type RetryPolicy } from './retry.ts';
import { toStreamEvent } from './shapes.ts';
import { toColloquyError } from './to-colloquy-error.ts';
import type { ResponseCapture } from './transport/response-capture.ts';
import type { SseSubscribe } from './transport/sse-subscription.ts';
import type { Answer, MessageStatus, StreamEvent } from './types.ts';

/** How a turn's start went, as the stream needs it. */
export interface StartedTurn {
  /** Undefined when the server has not said (the start's answer was lost) and the caller did not choose it. */
  conversationId: string | undefined;
  /**
   * Set when a retried start was refused as a conflict: an earlier try may have started the
   * turn (its answer was lost). The stream then attaches; if there is no such message after
   * all, this error is the stream's.
   */
  unconfirmed?: ColloquyError | undefined;
}

export interface AnswerStreamInit {
  /** Opens a `chat.events` subscription (the SDK's own SSE consumer). */
  subscribe: SseSubscribe;
  policy: RetryPolicy;
  /** Consecutive failed re-attach attempts tolerated before the stream fails. */
  maxReconnects: number;
  /** The answer's message id: chosen before the turn starts, or the one resumed. */
  messageId: string;
  /** The conversation, when known before the server says (given, or new). */
  conversationId: string | undefined;
  /** Starts the turn (absent when re-attaching to one): `chat.send`, retried safely. */
  start?: ((signal: AbortSignal) => Promise<StartedTurn>) | undefined;
  /** Events up to this id are not yielded (the caller saw them), though `final()` counts them. */
  after: number;
  /** Cancels the generation on the server (`chat.stop`). */
  stop: (messageId: string) => APIPromise<{ status: MessageStatus }>;
  signal: AbortSignal | undefined;
  /** Set when the stream cannot begin (bad input found before anything was sent): it fails with this at once. */
  failure?: ColloquyError | undefined;
  /** Bounds the whole stream (no limit when undefined). */
  timeoutMs: number | undefined;
  headers: Record<string, string> | undefined;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (r: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers may never await some of these; an unobserved rejection must not crash them.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * A streamed answer: `for await` its events, or await `final()`. Survives dropped connections
 * by re-attaching from the last event id it saw, so every event arrives exactly once, in order.
 */
export class AnswerStream implements AsyncIterable<StreamEvent> {
  /** Resolves once the turn has started (rejects if it could not be). */
  readonly conversationId: Promise<string>;
  /** Resolves once the turn has started; the id itself is chosen before (see `ConverseInput.messageId`). */
  readonly messageId: Promise<string>;

  readonly #init: AnswerStreamInit;
  readonly #ids: TurnIds;
  /** Every event of the message, from its first: what `final()` is built from. */
  readonly #all: StreamEvent[] = [];
  /** The events this stream yields (after `after`). */
  readonly #visible: StreamEvent[] = [];
  readonly #controller = new AbortController();
  readonly #conversationId = deferred<string>();
  readonly #messageId = deferred<string>();
  readonly #final = deferred<Answer>();
  readonly #deadline: Deadline | undefined;
  #wake: (() => void)[] = [];
  #done = false;
  #error: ColloquyError | undefined;
  #lastEventId = 0;
  #detach: (() => void) | undefined;

  constructor(init: AnswerStreamInit) {
    this.#init = init;
    this.#ids = { messageId: init.messageId, conversationId: init.conversationId };
    this.conversationId = this.#conversationId.promise;
    this.messageId = this.#messageId.promise;
    if (init.timeoutMs !== undefined) {
      const deadline = new Deadline(init.timeoutMs);
      this.#deadline = deadline;
      deadline.signal.addEventListener('abort', () =>
        this.#fail(new TimeoutError(`The stream timed out after ${deadline.ms} ms`, { status: 0, code: 'TIMEOUT' })),
      );
    }
    if (init.failure) {
      // Nothing was sent: the error has no turn to point at.
      this.#finish(init.failure);
      return;
    }
    if (init.signal?.aborted) this.abort();
    else if (init.signal) {
      const signal = init.signal;
      const onAbort = () => this.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      // A long-lived signal shared by many streams must not keep the finished ones.
      this.#detach = () => signal.removeEventListener('abort', onAbort);
    }
    void this.#pump();
  }

  /** The id of the last event received (pass it to `resume()` to continue after it later). */
  get lastEventId(): string | undefined {
    return this.#lastEventId > 0 ? String(this.#lastEventId) : undefined;
  }

  /**
   * Stops listening (as `break` in `for await` does); `final()` then rejects with an
   * AbortError. The generation itself goes on server-side: use `stop()` to cancel it.
   */
  abort(): void {
    this.#fail(new AbortError('The stream was aborted by the caller', { status: 0, code: 'ABORTED' }));
  }

  /** Cancels the generation; resolves with the message's final status (`stopped` if it was running). */
  async stop(): Promise<MessageStatus> {
    // Once the start has settled: a stop that overtook it would find no message.
    await this.#messageId.promise.catch(() => undefined);
    const { status } = await this.#init.stop(this.#init.messageId);
    return status;
  }

  /** The complete answer, once the stream has ended (whether or not it was iterated), equal to the stored message. */
  final(): Promise<Answer> {
    return this.#final.promise;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    let next = 0;
    try {
      for (;;) {
        while (next < this.#visible.length) yield this.#visible[next++] as StreamEvent;
        if (this.#done) {
          // The caller's own abort ends the loop quietly; anything else is thrown.
          if (this.#error && !(this.#error instanceof AbortError)) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => this.#wake.push(resolve));
      }
    } finally {
      // `break` (or a throw in the loop body) ends listening, like abort().
      if (!this.#done) this.abort();
    }
  }

  #notify(): void {
    // Per event: most events arrive while the reader is still busy with earlier ones.
    if (this.#wake.length === 0) return;
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  /** Ends the stream with an error (the first end wins) and stops listening. */
  #fail(error: ColloquyError): void {
    if (this.#done) return;
    this.#finish(withTurn(error, this.#ids));
    this.#controller.abort();
  }

  #finish(error?: ColloquyError): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    this.#deadline?.clear();
    this.#detach?.();
    if (error) {
      this.#final.reject(error);
      this.#messageId.reject(error);
      this.#conversationId.reject(error);
    } else {
      try {
        this.#final.resolve(buildAnswer(this.#all));
      } catch (err) {
        this.#error = toColloquyError(err);
        this.#final.reject(this.#error);
      }
    }
    this.#notify();
  }

  #receive(event: StreamEvent): void {
    this.#lastEventId = Number(event.id);
    if (this.#all.length === 0) {
      if (this.#ids.conversationId === undefined) this.#ids.conversationId = event.conversationId;
      this.#conversationId.resolve(event.conversationId);
    }
    this.#all.push(event);
    if (this.#lastEventId > this.#init.after) {
      this.#visible.push(event);
      this.#notify();
    }
  }

  async #pump(): Promise<void> {
    const { policy, maxReconnects, start } = this.#init;
    const signal = this.#controller.signal;
    let unconfirmed: ColloquyError | undefined;
    // The message id is chosen before the start: the subscription opens alongside it (the server
    // holds it until the turn begins), rather than one round trip after it.
    let early: { capture: ResponseCapture; ended: Promise<boolean> } | undefined;
    if (start) {
      const capture: ResponseCapture = {};
      early = { capture, ended: this.#connect(capture, true) };
      // Settled below; a failure meanwhile must not surface as an unhandled rejection.
      early.ended.catch(() => undefined);
      try {
        const started = await start(signal);
        unconfirmed = started.unconfirmed;
        if (started.conversationId !== undefined) {
          this.#ids.conversationId = started.conversationId;
          this.#conversationId.resolve(started.conversationId);
        }
      } catch (err) {
        this.#fail(toColloquyError(err));
        return;
      }
    } else if (this.#ids.conversationId !== undefined) {
      this.#conversationId.resolve(this.#ids.conversationId);
    }
    if (this.#done) return;
    this.#messageId.resolve(this.#init.messageId);

    let failures = 0;
    while (!this.#done) {
      const first = early;
      early = undefined;
      const capture: ResponseCapture = first?.capture ?? {};
      const seen = first ? 0 : this.#all.length;
      try {
        const ended = await (first?.ended ?? this.#connect(capture, false));
        if (this.#done) return;
        if (ended) {
          this.#finish();
          return;
        }
        throw new ConnectionError('The stream closed before its message_end', { status: 0, code: 'STREAM_CLOSED', requestId: capture.requestId });
      } catch (raw) {
        if (this.#done) return;
        const err = toColloquyError(raw, capture);
        if (this.#all.length > seen) failures = 0;
        // The early subscription gave up waiting before the (retried) start got through: now that
        // the start is confirmed, attach again at once.
        if (first && err instanceof NotFoundError && this.#all.length === 0) continue;
        // A retried start refused as a conflict, and no such message: the conflict was the real answer.
        if (unconfirmed && err instanceof NotFoundError && this.#all.length === 0) {
          this.#fail(unconfirmed);
          return;
        }
        const delay = backoffDelay(policy, failures, err);
        // A wait past the stream's deadline (or the SDK's cap on Retry-After) is not begun.
        const tooLong = delay > MAX_RETRY_AFTER_MS || (this.#deadline !== undefined && delay >= this.#deadline.remaining());
        if (!isRetryable(err) || failures >= maxReconnects || tooLong) {
          this.#fail(err);
          return;
        }
        failures += 1;
        await sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  /**
   * One SSE connection, from the last event seen; resolves true once `message_end` arrived, false
   * if it closed early. `awaitStart`: the turn is being started alongside; the server waits for it.
   */
  #connect(capture: ResponseCapture, awaitStart: boolean): Promise<boolean> {
    const signal = this.#controller.signal;
    return new Promise<boolean>((resolve, reject) => {
      let ended = false;
      const input = {
        messageId: this.#init.messageId,
        lastEventId: this.#lastEventId > 0 ? String(this.#lastEventId) : null,
        ...(awaitStart ? { awaitStart: true } : {}),
      };
      this.#init.subscribe('chat.events', input, {
        headers: this.#init.headers,
        capture,
        signal,
        onData: (data) => {
          if (ended || signal.aborted) return;
          const event = toStreamEvent(data as WireStreamEvent);
          this.#receive(event);
          if (event.event === 'message_end') {
            // The answer is complete now; the connection reads on to the server's `return`
            // meanwhile (so it is kept for reuse), its outcome no longer this stream's.
            ended = true;
            resolve(true);
          }
        },
      }).then(() => resolve(ended), reject);
    });
  }
}

/** Folds a message's events (from its first) into the Answer the blocking call would have returned. */
export function buildAnswer(events: readonly StreamEvent[]): Answer {
  let answer = '';
  let error: string | null = null;
  let end: Extract<StreamEvent, { event: 'message_end' }> | undefined;
  for (const event of events) {
    if (event.event === 'message') answer += event.answer;
    else if (event.event === 'message_replace') answer = event.answer;
    else if (event.event === 'error') error = event.message;
    else if (event.event === 'message_end') end = event;
  }
  if (!end) throw new ConnectionError('The stream ended without a message_end event', { status: 0, code: 'STREAM_CLOSED' });
  // A snapshot end (the live stream had expired) carries the whole stored answer.
  if (end.answer !== undefined) answer = end.answer;
  const first = events[0] ?? end;
  return {
    answer,
    conversationId: end.conversationId,
    messageId: end.messageId,
    status: end.status,
    usage: end.usage,
    citations: end.citations,
    error,
    createdAt: first.createdAt,
  };
}
