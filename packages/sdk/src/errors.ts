/**
 * Typed errors. Every failure the SDK surfaces is a ColloquyError; the subclass says why, so
 * callers can `instanceof` instead of inspecting status codes.
 */
export class ColloquyError extends Error {
  override name = 'ColloquyError';
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** tRPC error code (e.g. NOT_FOUND) or a transport code such as CONNECTION_ERROR. */
  readonly code: string;
  readonly requestId: string | undefined;

  constructor(message: string, init: { status: number; code: string; requestId?: string; cause?: unknown }) {
    super(message, { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
  }
}

export class BadRequestError extends ColloquyError {
  override name = 'BadRequestError';
}
export class UnauthorizedError extends ColloquyError {
  override name = 'UnauthorizedError';
}
export class ForbiddenError extends ColloquyError {
  override name = 'ForbiddenError';
}
export class NotFoundError extends ColloquyError {
  override name = 'NotFoundError';
}
export class ConflictError extends ColloquyError {
  override name = 'ConflictError';
}
export class RateLimitError extends ColloquyError {
  override name = 'RateLimitError';
  /** How long the server asked to wait (from Retry-After), if it said. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, init: { status: number; code: string; requestId?: string; cause?: unknown; retryAfterMs?: number }) {
    super(message, init);
    this.retryAfterMs = init.retryAfterMs;
  }
}
export class ServerError extends ColloquyError {
  override name = 'ServerError';
}
/** No usable response: network failure, refused connection, timeout, dropped stream. */
export class ConnectionError extends ColloquyError {
  override name = 'ConnectionError';
}

/** Whether a failed idempotent call may be tried again. */
export function isRetryable(err: ColloquyError): boolean {
  return err instanceof ConnectionError || err instanceof RateLimitError || err instanceof ServerError;
}

export function errorForStatus(
  status: number,
  message: string,
  init: { code?: string; requestId?: string; cause?: unknown; retryAfterMs?: number },
): ColloquyError {
  const base = { status, code: init.code ?? codeForStatus(status), requestId: init.requestId, cause: init.cause };
  if (status === 0) return new ConnectionError(message, { ...base, code: init.code ?? 'CONNECTION_ERROR' });
  if (status === 400 || status === 413 || status === 422) return new BadRequestError(message, base);
  if (status === 401) return new UnauthorizedError(message, base);
  if (status === 403) return new ForbiddenError(message, base);
  if (status === 404) return new NotFoundError(message, base);
  if (status === 409) return new ConflictError(message, base);
  if (status === 429) return new RateLimitError(message, { ...base, retryAfterMs: init.retryAfterMs });
  if (status >= 500) return new ServerError(message, base);
  return new ColloquyError(message, base);
}

function codeForStatus(status: number): string {
  const codes: Record<number, string> = {
    400: 'BAD_REQUEST',
    401: 'UNAUTHORIZED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    409: 'CONFLICT',
    413: 'PAYLOAD_TOO_LARGE',
    429: 'TOO_MANY_REQUESTS',
    500: 'INTERNAL_SERVER_ERROR',
    502: 'BAD_GATEWAY',
    503: 'SERVICE_UNAVAILABLE',
    504: 'GATEWAY_TIMEOUT',
  };
  return codes[status] ?? (status >= 500 ? 'SERVER_ERROR' : 'HTTP_ERROR');
}
