import { TRPCClientError } from '@trpc/client';
import { AbortError, ColloquyError, errorForStatus, TimeoutError } from './errors.ts';
import type { ResponseCapture } from './transport/response-capture.ts';

interface ErrorShapeData {
  code?: string;
  httpStatus?: number;
}

/**
 * Converts whatever a tRPC call or stream threw into a typed ColloquyError with an English
 * message, the server's body and the request id. `capture` is what the call's response showed
 * (a stream's refusal is known only from it).
 */
export function toColloquyError(err: unknown, capture: ResponseCapture = {}): ColloquyError {
  if (err instanceof ColloquyError) return err;
  if (err instanceof TRPCClientError) {
    const data = err.data as ErrorShapeData | undefined;
    const meta = err.meta as { response?: unknown; responseJSON?: unknown } | undefined;
    const response = meta?.response instanceof Response ? meta.response : undefined;
    const headers = response?.headers ?? capture.headers;
    const requestId = response?.headers.get('x-request-id') ?? capture.requestId;
    const retryAfterMs = parseRetryAfter(headers?.get('retry-after') ?? null);
    const body = meta?.responseJSON ?? capture.body;
    if (data?.httpStatus) {
      return errorForStatus(data.httpStatus, err.message, { code: data.code, requestId, retryAfterMs, body, cause: err });
    }
    // A response that is not a tRPC envelope (the server's JSON 401/413/429, a proxy's page), or
    // a stream the server refused (the EventSource says only "Non-200 status code").
    const status = response?.status ?? (capture.status !== undefined && capture.status >= 400 ? capture.status : undefined);
    if (status !== undefined) {
      const described = describeBody(body);
      return errorForStatus(status, described.message ?? `HTTP ${status}`, { code: described.code, requestId, retryAfterMs, body, cause: err });
    }
    const cause = err.cause;
    if (isAbortLike(cause)) return abortLike(cause, err);
    return errorForStatus(0, connectionMessage(err), { requestId, cause: err });
  }
  if (isAbortLike(err)) return abortLike(err, err);
  return errorForStatus(0, err instanceof Error ? err.message : String(err), { cause: err });
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The English message in an error body: tRPC's `{error: {message, data: {code}}}`, or the REST
 * envelope `{message, error}`, whose `message` is the original API's Chinese summary and whose
 * `error` is the English detail.
 */
function describeBody(body: unknown): { message?: string; code?: string } {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' && body.length < 200 && body.trim() ? { message: body.trim() } : {};
  const { message, error } = body as { message?: unknown; error?: unknown };
  if (typeof error === 'object' && error !== null) {
    const shape = error as { message?: unknown; data?: { code?: unknown } };
    return {
      ...(typeof shape.message === 'string' ? { message: shape.message } : {}),
      ...(typeof shape.data?.code === 'string' ? { code: shape.data.code } : {}),
    };
  }
  if (typeof error === 'string' && error) return { message: error };
  if (typeof message === 'string' && message) return { message };
  return {};
}

/** "fetch failed: connect ECONNREFUSED 127.0.0.1:9": the message and the innermost cause that says more. */
function connectionMessage(err: TRPCClientError<never>): string {
  const head = err.message || 'the connection failed';
  let detail: string | undefined;
  for (let cause: unknown = err.cause, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause.message && cause.message !== head) detail = cause.message;
  }
  return detail ? `${head}: ${detail}` : head;
}

function isAbortLike(err: unknown): err is Error {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

function abortLike(err: Error, cause: unknown): ColloquyError {
  return err.name === 'TimeoutError'
    ? new TimeoutError('The request timed out', { status: 0, code: 'TIMEOUT', cause })
    : new AbortError('The request was aborted', { status: 0, code: 'ABORTED', cause });
}
