import { TRPCClientError } from '@trpc/client';
import { createParser } from 'eventsource-parser';
import { noteStreamResponse, type ResponseCapture } from './response-capture.ts';

/**
 * A tRPC v11 subscription read over SSE with fetch and `eventsource-parser`, for the streams that
 * carry answers (`chat.events`). `@trpc/client`'s httpSubscriptionLink (kept for the other
 * subscriptions) passes every event through a ReadableStream enqueue, the `eventsource` package's
 * event objects and an observable chain: 22–30 µs of client CPU per relayed event, against 4–7 µs
 * on this path (bench/README.md, "The SDK's own SSE consumer").
 *
 * It reads tRPC v11's SSE protocol as `@trpc/server`'s sseStreamConsumer does:
 * - `event: connected` carries the client options (`reconnectAfterInactivityMs`: a stream silent
 *   that long, pings included, is given up as dropped);
 * - unnamed events are the data, one JSON value each (the router has no transformer), with the
 *   tracked id as the SSE `id` (the caller resumes by putting it in the input as `lastEventId`,
 *   as the link's inputWithTrackedEventId does);
 * - `event: ping` is only a sign of life; `event: return` ends the stream;
 * - `event: serialized-error` is tRPC's error shape, raised as the TRPCClientError the link would
 *   raise, so the SDK's one mapping (toColloquyError) types it.
 * There is no reconnect here: a dropped connection rejects, and the caller re-attaches from the
 * last id it saw, with its own bounded retries and backoff.
 */
export interface SseSubscriptionOptions {
  /** The tRPC endpoint, e.g. `http://localhost:5000/trpc`. */
  url: string;
  /** Headers on every request (auth, user, client id). */
  headers: Record<string, string>;
  fetch: typeof globalThis.fetch;
}

export interface SseCall {
  /** The call's own headers, over the transport's. */
  headers?: Record<string, string> | undefined;
  /** Filled with the HTTP response (status, headers, a refusal's body). */
  capture?: ResponseCapture | undefined;
  /** Closes the connection; the subscription then resolves `aborted`. */
  signal: AbortSignal;
  /** Each data event's value, in order. */
  onData(data: unknown): void;
}

/** How a subscription ended without an error: the server's `return`, the connection closed, or the caller's abort. */
export type SseEnd = 'return' | 'closed' | 'aborted';

export type SseSubscribe = (path: string, input: unknown, call: SseCall) => Promise<SseEnd>;

export function createSseSubscription(options: SseSubscriptionOptions): SseSubscribe {
  const base = options.url.replace(/\/+$/, '');
  return (path, input, call) => {
    const url = `${base}/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
    const headers = { ...options.headers, ...call.headers, accept: 'text/event-stream' };
    return subscribe(options.fetch, url, headers, call);
  };
}

async function subscribe(fetch: typeof globalThis.fetch, url: string, headers: Record<string, string>, call: SseCall): Promise<SseEnd> {
  const { signal } = call;
  if (signal.aborted) return 'aborted';
  // The request's own controller: aborting it closes the connection, whoever ends the stream.
  const connection = new AbortController();
  const onAbort = () => connection.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const idle = new InactivityWatch(() => connection.abort());
  try {
    let res: Response;
    try {
      res = await fetch(url, { method: 'GET', headers, signal: connection.signal });
    } catch (err) {
      if (signal.aborted) return 'aborted';
      throw TRPCClientError.from(asError(err));
    }
    const capture = call.capture ?? {};
    await noteStreamResponse(capture, res);
    if (!res.ok) {
      // Not a tRPC envelope (the server's JSON 401/429, a proxy's page): typed by its status and body.
      throw new TRPCClientError(`HTTP ${res.status}`, { meta: { response: res, responseJSON: capture.body } });
    }
    if (!res.body) return 'closed';

    let end: 'return' | undefined;
    let failure: TRPCClientError<never> | undefined;
    const parser = createParser({
      onEvent: (msg) => {
        if (end !== undefined || failure !== undefined) return;
        switch (msg.event) {
          case undefined:
          case 'message':
            call.onData(JSON.parse(msg.data) as unknown);
            break;
          case 'serialized-error':
            failure = TRPCClientError.from({ error: JSON.parse(msg.data) as never });
            break;
          case 'return':
            end = 'return';
            break;
          case 'connected': {
            const ms = (JSON.parse(msg.data) as { reconnectAfterInactivityMs?: unknown }).reconnectAfterInactivityMs;
            if (typeof ms === 'number' && ms > 0) idle.start(ms);
            break;
          }
          // `ping`: the chunk that carried it already counted as a sign of life.
        }
      },
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal.aborted) return 'aborted';
        // The stream had ended (`return`); only the wait for the response's end failed.
        if (end !== undefined) return end;
        if (idle.fired) throw new TRPCClientError(`Timeout of ${idle.ms}ms reached while waiting for a response`);
        throw TRPCClientError.from(asError(err));
      }
      if (chunk.done) return end ?? 'closed';
      idle.touch();
      // After `return` the server ends the response: read on to its end, so the connection is kept for reuse.
      if (end === undefined) parser.feed(decoder.decode(chunk.value, { stream: true }));
      if (failure) throw failure;
      if (signal.aborted) return 'aborted';
    }
  } finally {
    idle.stop();
    signal.removeEventListener('abort', onAbort);
    // A stream left before its end (an error, the caller's abort) is closed, not left open.
    connection.abort();
  }
}

/**
 * Gives a silent stream up after `ms` without a byte. One timer per stream, re-armed only when it
 * fires (for the time still left), rather than reset on every chunk.
 */
class InactivityWatch {
  ms = 0;
  fired = false;
  #last = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #onIdle: () => void;

  constructor(onIdle: () => void) {
    this.#onIdle = onIdle;
  }

  start(ms: number): void {
    this.ms = ms;
    this.touch();
    this.#arm(ms);
  }

  touch(): void {
    this.#last = Date.now();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => {
      const left = this.#last + this.ms - Date.now();
      if (left > 0) {
        this.#arm(left);
        return;
      }
      this.fired = true;
      this.#onIdle();
    }, delay);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
