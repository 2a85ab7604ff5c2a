import { ColloquyError, isRetryable } from './errors.ts';
import { backoffDelay, Deadline, linkSignals, unref, type RetryPolicy } from './retry.ts';
import { toClientEvent } from './shapes.ts';
import { toColloquyError } from './to-colloquy-error.ts';
import type { ColloquyTRPCClient } from './transport/create-trpc-client.ts';
import type { ResponseCapture } from './transport/response-capture.ts';
import type { ClientEvent } from './types.ts';

export interface PresenceOptions {
  /** What this client is (default `sdk`). */
  kind?: string | undefined;
  /** A display name for client lists. */
  name?: string | undefined;
  /** A small JSON object describing the client (at most 2 KB of JSON). */
  metadata?: Record<string, JsonValue> | undefined;
  /** Headers of the presence requests only, over the client's. */
  headers?: Record<string, string> | undefined;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Events a ClientWatch holds for a consumer that does not read them (then it fails). */
const MAX_UNREAD_EVENTS = 10_000;

/** Reconnect backoff of a presence connection: it retries for as long as the client is open. */
const PRESENCE_BACKOFF: RetryPolicy = { maxRetries: Number.POSITIVE_INFINITY, baseDelayMs: 500, maxDelayMs: 15_000 };

/**
 * The client's presence connection: a `clients.connect` subscription held open, with a
 * `clients.heartbeat` at the interval the server asks for. Reconnects (same client id) after
 * drops and server restarts, until `close()`. Gives up only when the server refuses it for good
 * (e.g. 401/403), which `ready()` then reports.
 */
export class PresenceConnection {
  readonly clientId: string;
  readonly #trpc: ColloquyTRPCClient;
  readonly #options: PresenceOptions;
  #closed = false;
  #ready: Promise<void>;
  #settleReady: { resolve(): void; reject(err: unknown): void } | undefined;
  #endAttempt: (() => void) | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #connected = false;

  constructor(trpc: ColloquyTRPCClient, clientId: string, options: PresenceOptions) {
    this.#trpc = trpc;
    this.clientId = clientId;
    this.#options = options;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = { resolve, reject };
    });
    this.#ready.catch(() => undefined);
    void this.#run();
  }

  /** Resolves once the server has registered this client (the first time). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Whether the presence connection is up right now. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Ends the presence connection; the server drops the client at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#endAttempt?.();
    this.#settleReady?.reject(new ColloquyError('The client was closed', { status: 0, code: 'CLOSED' }));
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      const error = await this.#attempt(() => {
        failures = 0;
      });
      if (this.#closed) return;
      if (error && !isRetryable(error) && error.status !== 404 && error.status !== 409) {
        // Refused for good (bad key, forbidden user, invalid options): report it and stop.
        this.#settleReady?.reject(error);
        return;
      }
      const delay = backoffDelay(PRESENCE_BACKOFF, failures, error);
      failures += 1;
      await new Promise<void>((resolve) => {
        this.#retry = unref(setTimeout(resolve, delay));
        this.#endAttempt = resolve;
      });
    }
  }

  /** One connection; resolves when it ends (with the error, if it failed). */
  #attempt(onConnected: () => void): Promise<ColloquyError | undefined> {
    return new Promise((resolve) => {
      let done = false;
      // Heartbeats in flight end with the connection (a pending request would hold a Node process).
      const heartbeats = new AbortController();
      const finish = (error?: ColloquyError) => {
        if (done) return;
        done = true;
        this.#connected = false;
        clearInterval(this.#heartbeat);
        clearTimeout(this.#watchdog);
        heartbeats.abort();
        subscription.unsubscribe();
        resolve(error);
      };
      let timeoutMs = 30_000;
      const alive = () => {
        clearTimeout(this.#watchdog);
        // The server heartbeats every quarter of its timeout: silence for a whole one means the
        // connection is dead even if no error surfaced.
        this.#watchdog = unref(setTimeout(() => finish(), timeoutMs));
      };
      const { kind = 'sdk', name, metadata, headers } = this.#options;
      const capture: ResponseCapture = {};
      const subscription = this.#trpc.clients.connect.subscribe(
        { clientId: this.clientId, kind, name, metadata },
        {
          context: { headers, capture },
          onData: (message) => {
            alive();
            if (message.type !== 'connected') return;
            timeoutMs = message.timeoutMs;
            alive();
            this.#connected = true;
            onConnected();
            this.#settleReady?.resolve();
            clearInterval(this.#heartbeat);
            this.#heartbeat = unref(
              setInterval(() => {
                // One heartbeat lasts at most until the next is due.
                const deadline = new Deadline(message.heartbeatMs);
                const signal = linkSignals(heartbeats.signal, deadline.signal);
                this.#trpc.clients.heartbeat
                  .mutate({ clientId: this.clientId }, { signal: signal.signal, context: { headers } })
                  .catch((err: unknown) => {
                    // The server no longer knows this client (it timed out): connect again.
                    if (toColloquyError(err).status === 404) finish();
                  })
                  .finally(() => {
                    deadline.clear();
                    signal.dispose();
                  });
              }, message.heartbeatMs),
            );
          },
          onError: (err) => finish(toColloquyError(err, capture)),
          onComplete: () => finish(),
        },
      );
      this.#endAttempt = () => finish();
      // A connection that never answers (a black-holed network) is given up on too.
      alive();
    });
  }
}

/**
 * `clients.watch` as an async iterable: a `snapshot` of the visible clients, then joins, changes
 * and leaves. After a dropped connection it re-subscribes (and yields a fresh snapshot).
 */
export class ClientWatch implements AsyncIterable<ClientEvent> {
  readonly #trpc: ColloquyTRPCClient;
  readonly #queue: ClientEvent[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  #error: ColloquyError | undefined;
  #subscription: { unsubscribe(): void } | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;

  readonly #headers: Record<string, string> | undefined;
  #detach: (() => void) | undefined;

  readonly #onClose: (() => void) | undefined;

  constructor(
    trpc: ColloquyTRPCClient,
    options: { signal?: AbortSignal | undefined; headers?: Record<string, string> | undefined; onClose?: () => void } = {},
  ) {
    this.#trpc = trpc;
    this.#headers = options.headers;
    this.#onClose = options.onClose;
    const signal = options.signal;
    if (signal?.aborted) this.#closed = true;
    else if (signal) {
      const onAbort = () => this.close();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#detach = () => signal.removeEventListener('abort', onAbort);
    }
    this.#subscribe();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach?.();
    this.#onClose?.();
    clearTimeout(this.#retry);
    this.#subscription?.unsubscribe();
    this.#wake?.();
  }

  #subscribe(): void {
    if (this.#closed) return;
    let ended = false;
    const end = (error?: ColloquyError) => {
      if (ended) return;
      ended = true;
      this.#subscription?.unsubscribe();
      if (this.#closed) return;
      if (error && !isRetryable(error)) {
        this.#error = error;
        this.close();
        return;
      }
      const delay = backoffDelay(PRESENCE_BACKOFF, this.#failures, error);
      this.#failures += 1;
      this.#retry = unref(setTimeout(() => this.#subscribe(), delay));
    };
    const capture: ResponseCapture = {};
    this.#subscription = this.#trpc.clients.watch.subscribe(undefined, {
      context: { headers: this.#headers, capture },
      onData: (event) => {
        this.#failures = 0;
        if (this.#queue.length >= MAX_UNREAD_EVENTS) {
          this.#error = new ColloquyError('clients.watch: too many unread events', { status: 0, code: 'OVERFLOW' });
          this.close();
          return;
        }
        this.#queue.push(toClientEvent(event));
        this.#wake?.();
      },
      onError: (err) => end(toColloquyError(err, capture)),
      onComplete: () => end(),
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ClientEvent> {
    try {
      for (;;) {
        const event = this.#queue.shift();
        if (event) {
          yield event;
          continue;
        }
        if (this.#closed) {
          if (this.#error) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
    } finally {
      this.close();
    }
  }
}
