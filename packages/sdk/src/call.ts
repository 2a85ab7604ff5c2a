import { APIPromise, type RawResponse, type WithResponse } from './api-promise.ts';
import { AbortError, isRetryable, TimeoutError, withTurn, type ColloquyError } from './errors.ts';
import { backoffDelay, Deadline, linkSignals, MAX_RETRY_AFTER_MS, sleep, type RetryPolicy } from './retry.ts';
import { toColloquyError } from './to-colloquy-error.ts';
import type { CallContext } from './transport/create-trpc-client.ts';
import type { ResponseCapture } from './transport/response-capture.ts';

/** Options every method takes as its last argument. */
export interface RequestOptions {
  /** Aborts the call: it rejects with an AbortError. */
  signal?: AbortSignal | undefined;
  /**
   * Bounds the whole call, its retries and their waits (Retry-After included): past it the call
   * rejects with a TimeoutError. Default: the client's `timeoutMs`.
   */
  timeoutMs?: number | undefined;
  /** Retries of this call after connection errors, 429 and 5xx. Default: the client's `maxRetries`. */
  maxRetries?: number | undefined;
  /** Headers for this call only, over the client's. */
  headers?: Record<string, string> | undefined;
}

/** One try of a call. */
export interface Attempt {
  /** Aborts when the caller aborts or the deadline passes. */
  signal: AbortSignal;
  /** For tRPC's operation context: the call's headers and the response capture. */
  context: CallContext;
  /** 0 for the first try. */
  index: number;
}

/** The ids of the turn a call starts or follows, as far as they are known (filled in as they become so). */
export interface TurnIds {
  messageId?: string | undefined;
  conversationId?: string | undefined;
}

export interface CallPlan {
  policy: RetryPolicy;
  maxRetries: number;
  /** No deadline when undefined. */
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
  headers: Record<string, string> | undefined;
  /** Errors of a turn's call carry its ids. */
  turn?: TurnIds | undefined;
}

/**
 * Runs a call: tries it, retries what may be retried (connection errors, 429, 5xx) with backoff
 * and Retry-After, all within one deadline, and turns every failure into a typed error.
 */
export function runCall<T>(plan: CallPlan, attempt: (a: Attempt) => Promise<T>): APIPromise<T> {
  return new APIPromise(execute(plan, attempt));
}

async function execute<T>(plan: CallPlan, attempt: (a: Attempt) => Promise<T>): Promise<WithResponse<T>> {
  const deadline = plan.timeoutMs === undefined ? undefined : new Deadline(plan.timeoutMs);
  const linked = linkSignals(plan.signal, deadline?.signal);
  const fail = (raw: unknown, capture?: ResponseCapture) => callError(raw, plan, deadline, capture);
  try {
    for (let index = 0; ; index++) {
      const capture: ResponseCapture = {};
      try {
        const data = await attempt({ signal: linked.signal, context: { headers: plan.headers, capture }, index });
        return { data, response: rawResponse(capture) };
      } catch (raw) {
        const err = fail(raw, capture);
        if (!isRetryable(err) || index >= plan.maxRetries) throw err;
        const delay = backoffDelay(plan.policy, index, err);
        // A wait the deadline (or the SDK's cap) would cut short is not begun: the error stands.
        if (delay > MAX_RETRY_AFTER_MS || (deadline && delay >= deadline.remaining())) throw err;
        await sleep(delay, linked.signal).catch((reason: unknown) => {
          throw fail(reason);
        });
      }
    }
  } finally {
    linked.dispose();
    deadline?.clear();
  }
}

/** The typed error for a failed try: the caller's abort and the deadline first, then what the server said. */
export function callError(raw: unknown, plan: Pick<CallPlan, 'signal' | 'turn'>, deadline: Deadline | undefined, capture?: ResponseCapture): ColloquyError {
  const turn = plan.turn ?? {};
  if (plan.signal?.aborted) {
    return withTurn(new AbortError('The call was aborted', { status: 0, code: 'ABORTED', cause: plan.signal.reason }), turn);
  }
  if (deadline?.expired) {
    return withTurn(new TimeoutError(`The call timed out after ${deadline.ms} ms`, { status: 0, code: 'TIMEOUT', cause: raw }), turn);
  }
  return withTurn(toColloquyError(raw, capture), turn);
}

function rawResponse(capture: ResponseCapture): RawResponse {
  return { status: capture.status ?? 0, headers: capture.headers ?? new Headers(), requestId: capture.requestId };
}
