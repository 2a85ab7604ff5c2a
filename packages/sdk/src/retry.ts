import { RateLimitError, type ColloquyError } from './errors.ts';

export interface RetryPolicy {
  maxRetries: number;
  /** First backoff step; doubles each attempt (with jitter), capped at `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxRetries: 2, baseDelayMs: 300, maxDelayMs: 8_000 };

/** The longest Retry-After the SDK waits out by itself; a longer one fails the call. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Exponential backoff with full jitter; a server's Retry-After wins when it is given. */
export function backoffDelay(policy: RetryPolicy, attempt: number, err?: ColloquyError): number {
  if (err instanceof RateLimitError && err.retryAfterMs !== undefined) return err.retryAfterMs;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Timers never keep a Node process alive by themselves (in browsers there is nothing to do). */
export function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    // Not unref'd: a call waiting to retry is work the caller is awaiting.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A signal that aborts when any of `signals` does; `dispose` detaches it from them. */
export function linkSignals(...signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  const aborted = sources.find((s) => s.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }
  const listeners = sources.map((source) => {
    const listener = () => controller.abort(source.reason);
    source.addEventListener('abort', listener, { once: true });
    return () => source.removeEventListener('abort', listener);
  });
  return { signal: controller.signal, dispose: () => listeners.forEach((remove) => remove()) };
}

/** A time limit: its signal aborts when it passes. */
export class Deadline {
  readonly ms: number;
  readonly #controller = new AbortController();
  readonly #at: number;
  readonly #timer: ReturnType<typeof setTimeout>;

  constructor(ms: number) {
    this.ms = ms;
    this.#at = Date.now() + ms;
    // Unref'd: what the deadline limits (a request, a stream) keeps the process alive, not the limit.
    this.#timer = unref(setTimeout(() => this.#controller.abort(), ms));
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get expired(): boolean {
    return this.#controller.signal.aborted;
  }

  remaining(): number {
    return Math.max(0, this.#at - Date.now());
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}
