import type { IncomingHttpHeaders } from 'node:http';
import { request, type Dispatcher, type FormData } from 'undici';
import { abortError, sleep } from '../abort.ts';
import { Deadline } from './deadline.ts';
import { describeErrorBody } from './error-body.ts';
import { UpstreamError } from './errors.ts';
import type { Upstream } from './options.ts';

export interface UpstreamRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Must be re-sendable (a string, or undici's FormData): a request may be retried. */
  body?: string | FormData;
}

/** An answer as undici's `request` gives it: status, headers and a Node stream body. */
export type UpstreamResponse = Dispatcher.ResponseData;

export interface OpenedResponse {
  response: UpstreamResponse;
  /**
   * Still armed with the first-byte timeout; the body reader re-arms it per chunk and must
   * `release` it once the body is done with.
   */
  deadline: Deadline;
}

/**
 * Sends the request and waits for a 2xx answer. Connection errors, 429 and 5xx are retried with
 * backoff; nothing is retried once an answer body is being read (that is the caller's part).
 * Timeouts are not retried: an upstream that stalled once most likely stalls again.
 */
export async function openUpstream(up: Upstream, req: UpstreamRequest, signal: AbortSignal): Promise<OpenedResponse> {
  const { maxRetries, firstByteTimeoutMs, retryBackoffMs } = up.timeouts;
  const onTimeout = (): UpstreamError => firstByteTimeout(up);
  for (let attempt = 0; ; attempt++) {
    // One controller per attempt, aborted by the turn's signal or the first-byte timeout.
    const deadline = new Deadline(signal);
    deadline.arm(firstByteTimeoutMs, onTimeout);
    let error: Error;
    let retryAfterMs = 0;
    try {
      const response = await request(req.url, {
        dispatcher: up.dispatcher,
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        signal: deadline.signal,
      });
      if (isOk(response.statusCode)) return { response, deadline };
      retryAfterMs = retryAfter(response.headers);
      error = await httpError(up, response);
    } catch (err) {
      error = asFailure(up, err, signal, deadline);
    }
    deadline.release();
    if (!isRetryable(error) || attempt >= maxRetries) throw error;
    await sleep(Math.max(retryBackoffMs * 2 ** attempt, Math.min(retryAfterMs, 10_000)), signal);
  }
}

export function isOk(status: number): boolean {
  return status >= 200 && status <= 299;
}

function isRetryable(error: Error): boolean {
  if (!(error instanceof UpstreamError)) return false;
  return error.code === 'connection_failed' || isRetryableStatus(error.status);
}

function isRetryableStatus(status: number | undefined): boolean {
  return status === 429 || (status !== undefined && status >= 500);
}

async function httpError(up: Upstream, response: UpstreamResponse): Promise<UpstreamError> {
  const text = await response.body.text();
  const { message, code } = describeErrorBody(text);
  const detail = message ?? (response.statusText || 'no details');
  return new UpstreamError(`${up.label} answered ${response.statusCode}${code ? ` (${code})` : ''}: ${detail}`, {
    status: response.statusCode,
    code: code ?? 'http_error',
    secrets: up.secrets,
  });
}

function retryAfter(headers: IncomingHttpHeaders): number {
  const header = headers['retry-after'];
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/**
 * Any failure of a request or of reading its body, as the error the caller should see: the turn's
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

/**
 * `connect ECONNREFUSED 127.0.0.1:1`, `other side closed`. Node reports a host that resolves
 * to several addresses as an AggregateError without a message: its errors say what failed.
 */
function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let message = err.message;
  if (!message && err instanceof AggregateError) {
    message = err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ');
  }
  message ||= errorCode(err) ?? err.name;
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && cause !== message ? `${message} (${cause})` : message;
}

function errorCode(err: Error): string | undefined {
  const code: unknown = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
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
