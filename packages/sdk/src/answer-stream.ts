import { ColloquyError, ConnectionError, isRetryable } from './errors.ts';
import { backoffDelay, sleep, type RetryPolicy } from './retry.ts';
import { toColloquyError } from './to-colloquy-error.ts';
import type { ColloquyTRPCClient } from './transport/create-trpc-client.ts';
import type { Answer, Citation, StreamEvent, Usage } from './types.ts';

export interface AnswerStreamOptions {
  trpc: ColloquyTRPCClient;
  policy: RetryPolicy;
  /** Consecutive failed re-attach attempts tolerated before the stream fails. */
  maxReconnects: number;
  /** Starts the turn (or names an existing message, for `resume`). */
  start: () => Promise<{ messageId: string; conversationId?: string }>;
  lastEventId?: string;
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
  /** Resolves once the turn has started. */
  readonly conversationId: Promise<string>;
  readonly messageId: Promise<string>;

  readonly #options: AnswerStreamOptions;
  readonly #events: StreamEvent[] = [];
  readonly #controller = new AbortController();
  readonly #conversationId = deferred<string>();
  readonly #messageId = deferred<string>();
  readonly #final = deferred<Answer>();
  #wake: (() => void)[] = [];
  #done = false;
  #error: ColloquyError | undefined;

  constructor(options: AnswerStreamOptions) {
    this.#options = options;
    this.conversationId = this.#conversationId.promise;
    this.messageId = this.#messageId.promise;
    void this.#pump();
  }

  /** Stop listening. The generation itself goes on server-side (use `stop()` to cancel it). */
  abort(): void {
    if (this.#done) return;
    this.#controller.abort();
    this.#finish(new ColloquyError('The stream was aborted by the caller', { status: 0, code: 'ABORTED' }));
  }

  /** Cancel the generation; resolves with the message's final status (`stopped` if it was running). */
  async stop(): Promise<Answer['status']> {
    const messageId = await this.messageId;
    try {
      const { status } = await this.#options.trpc.chat.stop.mutate({ messageId });
      return status;
    } catch (err) {
      throw toColloquyError(err);
    }
  }

  /** The complete answer, once the stream has ended (whether or not it was iterated). */
  final(): Promise<Answer> {
    return this.#final.promise;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    let next = 0;
    try {
      for (;;) {
        while (next < this.#events.length) yield this.#events[next++] as StreamEvent;
        if (this.#done) {
          if (this.#error && this.#error.code !== 'ABORTED') throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => this.#wake.push(resolve));
      }
    } finally {
      // `break` (or a throw in the loop body) ends listening, like abort().
      if (!this.#done) this.abort();
    }
  }

  #push(event: StreamEvent): void {
    this.#events.push(event);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  #finish(error?: ColloquyError): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    if (error) {
      this.#final.reject(error);
      this.#messageId.reject(error);
      this.#conversationId.reject(error);
    } else {
      this.#final.resolve(buildAnswer(this.#events));
    }
    this.#notify();
  }

  async #pump(): Promise<void> {
    const { trpc, policy, maxReconnects } = this.#options;
    const signal = this.#controller.signal;
    let messageId: string;
    try {
      const started = await this.#options.start();
      messageId = started.messageId;
      this.#messageId.resolve(messageId);
      if (started.conversationId) this.#conversationId.resolve(started.conversationId);
    } catch (err) {
      this.#finish(toColloquyError(err));
      return;
    }

    let lastEventId = this.#options.lastEventId;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const ended = await this.#subscribeOnce(trpc, messageId, lastEventId, (event) => {
          lastEventId = event.id;
          failures = 0;
          this.#conversationId.resolve(event.conversation_id);
          this.#push(event);
        });
        if (signal.aborted) return;
        if (ended) {
          this.#finish();
          return;
        }
        throw new ConnectionError('The stream closed before its message_end', { status: 0, code: 'STREAM_CLOSED' });
      } catch (raw) {
        if (signal.aborted) return;
        const err = toColloquyError(raw);
        if (!isRetryable(err) || failures >= maxReconnects) {
          this.#finish(err);
          return;
        }
        const delay = backoffDelay(policy, failures, err);
        failures += 1;
        await sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  /** One SSE connection; resolves true once `message_end` arrived, false if it closed early. */
  #subscribeOnce(
    trpc: ColloquyTRPCClient,
    messageId: string,
    lastEventId: string | undefined,
    onEvent: (event: StreamEvent) => void,
  ): Promise<boolean> {
    const signal = this.#controller.signal;
    return new Promise<boolean>((resolve, reject) => {
      let ended = false;
      const subscription = trpc.chat.events.subscribe(
        { messageId, lastEventId: lastEventId ?? null },
        {
          onData(tracked) {
            if (ended || signal.aborted) return;
            onEvent(tracked.data);
            if (tracked.data.event === 'message_end') {
              ended = true;
              subscription.unsubscribe();
              resolve(true);
            }
          },
          onError: reject,
          onComplete: () => resolve(ended),
        },
      );
      signal.addEventListener(
        'abort',
        () => {
          subscription.unsubscribe();
          resolve(false);
        },
        { once: true },
      );
    });
  }
}

/** Folds a stream's events into the Answer the blocking call would have returned. */
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
  const usage: Usage | null = end.metadata.usage && {
    promptTokens: end.metadata.usage.prompt_tokens,
    completionTokens: end.metadata.usage.completion_tokens,
    totalTokens: end.metadata.usage.total_tokens,
  };
  const citations: Citation[] = end.metadata.retriever_resources.map((r) => ({
    fileId: r.document_id,
    fileName: r.document_name,
    passage: r.content,
    score: r.score,
  }));
  const first = events[0] ?? end;
  return {
    answer,
    conversationId: end.conversation_id,
    messageId: end.message_id,
    status: end.status,
    usage,
    citations,
    error,
    createdAt: new Date(first.created_at * 1000).toISOString(),
  };
}
