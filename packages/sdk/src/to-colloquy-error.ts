import { TRPCClientError } from '@trpc/client';
import { ColloquyError, errorForStatus } from './errors.ts';

interface ErrorShapeData {
  code?: string;
  httpStatus?: number;
}

/** Converts whatever a tRPC call threw into a typed ColloquyError. */
export function toColloquyError(err: unknown): ColloquyError {
  if (err instanceof ColloquyError) return err;
  if (err instanceof TRPCClientError) {
    const data = err.data as ErrorShapeData | undefined;
    const response = (err.meta as { response?: Response } | undefined)?.response;
    const requestId = response?.headers.get('x-request-id') ?? undefined;
    const retryAfterMs = parseRetryAfter(response?.headers.get('retry-after') ?? null);
    if (data?.httpStatus) {
      return errorForStatus(data.httpStatus, err.message, { code: data.code, requestId, retryAfterMs, cause: err });
    }
    // A response that is not a tRPC envelope (a proxy error page, the server's JSON 413/429…).
    if (response) {
      const body = (err.meta as { responseJSON?: unknown } | undefined)?.responseJSON;
      const message = messageFromBody(body) ?? `HTTP ${response.status}`;
      return errorForStatus(response.status, message, { requestId, retryAfterMs, cause: err });
    }
    // SSE failures carry the HTTP status (if any) on the EventSource error event.
    const status = statusFromEventSourceError(err.cause);
    if (status) return errorForStatus(status, err.message || `HTTP ${status}`, { cause: err });
    return errorForStatus(0, err.message || 'connection failed', { cause: err });
  }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return errorForStatus(0, err.message, { code: err.name === 'TimeoutError' ? 'TIMEOUT' : 'ABORTED', cause: err });
  }
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

function messageFromBody(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { message, error } = body as { message?: unknown; error?: unknown };
  if (typeof error === 'string' && typeof message === 'string') return `${message}: ${error}`;
  if (typeof message === 'string') return message;
  return undefined;
}

function statusFromEventSourceError(cause: unknown): number | undefined {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && code >= 400 ? code : undefined;
}
