/**
 * The one error type services throw. Its code is a tRPC error code: `toTRPCError` hands it to
 * tRPC, and `httpStatusOf` (http-status.ts) gives every other surface the same HTTP status.
 */
export type AppErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL_SERVER_ERROR'
  | 'SERVICE_UNAVAILABLE';

export class AppError extends Error {
  override readonly name = 'AppError';
  /** For TOO_MANY_REQUESTS: how long to wait before trying again (sent as `Retry-After`). */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    readonly code: AppErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export const badRequest = (message: string) => new AppError('BAD_REQUEST', message);
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
