/**
 * Typed errors. Every failure the SDK surfaces is a ColloquyError; the subclass says why, so
 * callers can `instanceof` instead of inspecting status codes. Messages are English; the
 * server's own error body (the REST contract's `{message, error}` with its Chinese `message`,
 * or tRPC's error shape) stays available as `body`.
 */
export interface ColloquyErrorInit {
  /** HTTP status, or 0 when no response arrived. */
  status: number;
  code: string;
  requestId?: string | undefined;
  body?: unknown;
  cause?: unknown;
  messageId?: string | undefined;
  conversationId?: string | undefined;
}

export class ColloquyError extends Error {
  override name = 'ColloquyError';
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /**
   * tRPC error code (`NOT_FOUND`, `CONFLICT`, …) or the SDK's own: `CONNECTION_ERROR`,
   * `TIMEOUT`, `ABORTED`, `STREAM_CLOSED`, `PRESENCE_OFF`, `CLOSED`.
   */
  readonly code: string;
  /** The server's `X-Request-Id` for the request that failed (quote it when reporting a problem). */
  readonly requestId: string | undefined;
  /** The error body the server sent, parsed (undefined when there was none). */
  readonly body: unknown;
  /**
   * For a failure while starting or following a turn: the answer's message id. The turn may
   * have started on the server anyway (a timeout, an abort, a lost connection): `resume()` or
   * `stop()` it by this id (a NotFoundError then means it never started).
   */
  readonly messageId: string | undefined;
  /** For a turn: its conversation, when known (given, new, or told by the server). */
  readonly conversationId: string | undefined;

  constructor(message: string, init: ColloquyErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.body = init.body;
    this.messageId = init.messageId;
    this.conversationId = init.conversationId;
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
  constructor(message: string, init: ColloquyErrorInit & { retryAfterMs?: number | undefined }) {
    super(message, init);
    this.retryAfterMs = init.retryAfterMs;
  }
}
export class ServerError extends ColloquyError {
  override name = 'ServerError';
}
/** No usable response: network failure, refused connection, dropped stream. */
export class ConnectionError extends ColloquyError {
  override name = 'ConnectionError';
}
/** The call (or stream) ran past its `timeoutMs`, retries and waits included. Code `TIMEOUT`. */
export class TimeoutError extends ConnectionError {
  override name = 'TimeoutError';
}
/** The caller aborted: its `signal`, `stream.abort()` or `break`. Code `ABORTED`. */
export class AbortError extends ColloquyError {
  override name = 'AbortError';
}

/** Whether a failed call may be tried again. */
export function isRetryable(err: ColloquyError): boolean {
  if (err instanceof TimeoutError) return false;
  return err instanceof ConnectionError || err instanceof RateLimitError || err instanceof ServerError;
}

export interface ErrorDetails {
  code?: string | undefined;
  requestId?: string | undefined;
  body?: unknown;
  cause?: unknown;
  retryAfterMs?: number | undefined;
  messageId?: string | undefined;
  conversationId?: string | undefined;
}

/** The error class for an HTTP status (0: no response). */
export function errorForStatus(status: number, message: string, details: ErrorDetails = {}): ColloquyError {
  const { retryAfterMs, ...rest } = details;
  const init: ColloquyErrorInit = { ...rest, status, code: details.code ?? codeForStatus(status) };
  if (status === 0) return new ConnectionError(message, { ...init, code: details.code ?? 'CONNECTION_ERROR' });
  if (status === 400 || status === 413 || status === 422) return new BadRequestError(message, init);
  if (status === 401) return new UnauthorizedError(message, init);
  if (status === 403) return new ForbiddenError(message, init);
  if (status === 404) return new NotFoundError(message, init);
  if (status === 409) return new ConflictError(message, init);
  if (status === 429) return new RateLimitError(message, { ...init, retryAfterMs });
  if (status >= 500) return new ServerError(message, init);
  return new ColloquyError(message, init);
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

/**
 * The same error, marked with the turn it belongs to (ids it does not carry yet). Errors are
 * created where a response is read, usually before the turn's ids are at hand.
 */
export function withTurn<E extends ColloquyError>(err: E, turn: { messageId?: string | undefined; conversationId?: string | undefined }): E {
  const target = err as { -readonly [K in 'messageId' | 'conversationId']: string | undefined };
  target.messageId ??= turn.messageId;
  target.conversationId ??= turn.conversationId;
  return err;
}
