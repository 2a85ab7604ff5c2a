import { abortError, sleep } from '../abort.ts';
import { Deadline } from './deadline.ts';
import { describeErrorBody } from './error-body.ts';
import { UpstreamError } from './errors.ts';
import type { Upstream } from './options.ts';

export interface UpstreamRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Must be re-sendable (string or FormData): a request may be retried. */
  body?: string | FormData;
}

export interface OpenedResponse {
  response: Response;
  /** Still armed with the first-byte timeout; the body reader re-arms it per chunk. */
  deadline: Deadline;
}

/**
 * Sends the request and waits for a 2xx answer. Connection errors, 429 and 5xx are retried with
 * backoff; nothing is retried once an answer body is being read (that is the caller's part).
 * Timeouts are not retried: an upstream that stalled once most likely stalls again.
 */
export async function openUpstream(up: Upstream, req: UpstreamRequest, signal: AbortSignal): Promise<OpenedResponse> {
  const { maxRetries, firstByteTimeoutMs, retryBackoffMs } = up.timeouts;
  for (let attempt = 0; ; attempt++) {
    const deadline = new Deadline();
    deadline.arm(firstByteTimeoutMs, () => firstByteTimeout(up));
    let error: Error;
    let retryAfterMs = 0;
    try {
      const response = await up.fetch(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        signal: AbortSignal.any([signal, deadline.signal]),
      });
      if (response.ok) return { response, deadline };
      retryAfterMs = retryAfter(response);
      error = await httpError(up, response);
    } catch (err) {
      error = asFailure(up, err, signal, deadline);
    }
    deadline.clear();
    if (!isRetryable(error) || attempt >= maxRetries) throw error;
    await sleep(Math.max(retryBackoffMs * 2 ** attempt, Math.min(retryAfterMs, 10_000)), signal);
  }
}

function isRetryable(error: Error): boolean {
  if (!(error instanceof UpstreamError)) return false;
  return error.code === 'connection_failed' || isRetryableStatus(error.status);
}

function isRetryableStatus(status: number | undefined): boolean {
  return status === 429 || (status !== undefined && status >= 500);
}

async function httpError(up: Upstream, response: Response): Promise<UpstreamError> {
  const text = await response.text();
  const { message, code } = describeErrorBody(text);
  const detail = message ?? (response.statusText || 'no details');
  return new UpstreamError(`${up.label} answered ${response.status}${code ? ` (${code})` : ''}: ${detail}`, {
    status: response.status,
    code: code ?? 'http_error',
    secrets: up.secrets,
  });
}

function retryAfter(response: Response): number {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/**
 * Any failure of fetch or of reading a body, as the error the caller should see: the turn's
 * AbortError when it was stopped, the timeout when the deadline passed, else an UpstreamError.
 */
export function asFailure(
  up: Upstream,
  err: unknown,
  signal: AbortSignal,
  deadline: Deadline,
  code: 'connection_failed' | 'upstream_closed' = 'connection_failed',
): Error {
  if (signal.aborted) return abortError(signal);
  if (deadline.expired) return deadline.expired;
  if (err instanceof UpstreamError) return err;
  const what = code === 'connection_failed' ? 'could not be reached' : 'closed the connection mid-answer';
  return new UpstreamError(`${up.label} ${what}: ${describeCause(err)}`, { code, secrets: up.secrets });
}

/** `fetch failed (connect ECONNREFUSED 127.0.0.1:1)`: undici keeps the useful part in `cause`. */
function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && cause !== err.message ? `${err.message} (${cause})` : err.message;
}

export function firstByteTimeout(up: Upstream): UpstreamError {
  return new UpstreamError(`${up.label} did not answer within ${up.timeouts.firstByteTimeoutMs} ms`, {
    code: 'first_byte_timeout',
    secrets: up.secrets,
  });
}

export function idleTimeout(up: Upstream): UpstreamError {
  return new UpstreamError(`${up.label} went silent for ${up.timeouts.idleTimeoutMs} ms mid-answer`, {
    code: 'idle_timeout',
    secrets: up.secrets,
  });
}
