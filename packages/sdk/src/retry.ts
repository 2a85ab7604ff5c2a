import { isRetryable, RateLimitError, type ColloquyError } from './errors.ts';
import { toColloquyError } from './to-colloquy-error.ts';

export interface RetryPolicy {
  maxRetries: number;
  /** First backoff step; doubles each attempt (with jitter), capped at `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxRetries: 2, baseDelayMs: 300, maxDelayMs: 8_000 };

/** Exponential backoff with full jitter; a server's Retry-After wins when it is given. */
export function backoffDelay(policy: RetryPolicy, attempt: number, err?: ColloquyError): number {
  if (err instanceof RateLimitError && err.retryAfterMs !== undefined) return Math.min(err.retryAfterMs, 60_000);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs an idempotent call, retrying connection errors, 429 and 5xx. */
export async function withRetry<T>(policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (raw) {
      const err = toColloquyError(raw);
      if (!isRetryable(err) || attempt >= policy.maxRetries) throw err;
      await sleep(backoffDelay(policy, attempt, err));
    }
  }
}

/** Runs a call that must not be repeated, only translating its errors. */
export async function once<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (raw) {
    throw toColloquyError(raw);
  }
}
