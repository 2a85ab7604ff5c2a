import { AppError, describeZodError, httpStatusOf, type Logger } from '@colloquy/api';
import { TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import type { ErrorDetail } from '../http/error-envelope.ts';
import { FieldError } from './request-fields.ts';

/** An error with what a route family says about it besides its status (OpenAI's `param`, a family's code). */
export class DetailedError extends Error {
  override readonly name = 'DetailedError';
  constructor(
    readonly inner: unknown,
    readonly detail: ErrorDetail,
  ) {
    super(inner instanceof Error ? inner.message : String(inner));
  }
}

/**
 * HTTP status and a readable detail for anything a procedure call (or a service) threw (and, for
 * a 429, the seconds to send as `Retry-After`). Server-side failures are logged to `log` (the
 * request's logger) and answered without details.
 */
export function describeProcedureError(
  err: unknown,
  log: Pick<Logger, 'error'>,
): { status: number; detail: string; retryAfterSeconds?: number; fields?: ErrorDetail } {
  if (err instanceof DetailedError) return { ...describeProcedureError(err.inner, log), fields: err.detail };
  if (err instanceof FieldError) return { status: 400, detail: err.message, fields: err.detail };
  if (err instanceof AppError) return describeProcedureError(new TRPCError({ code: err.code, message: err.message, cause: err }), log);
  if (err instanceof TRPCError) {
    const status = httpStatusOf(err.code);
    if (err.cause instanceof ZodError) {
      const path = err.cause.issues[0]?.path;
      return { status, detail: describeZodError(err.cause), ...(path?.length ? { fields: { param: path.join('.') } } : {}) };
    }
    if (err.cause instanceof AppError && err.cause.retryAfterSeconds !== undefined) {
      return { status, detail: err.message, retryAfterSeconds: err.cause.retryAfterSeconds };
    }
    if (status >= 500) {
      log.error({ err: err.cause ?? err }, 'procedure failed');
      return { status, detail: 'internal server error' };
    }
    return { status, detail: err.message };
  }
  log.error({ err }, 'unexpected error');
  return { status: 500, detail: 'internal server error' };
}
