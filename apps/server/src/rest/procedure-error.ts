import { AppError, describeZodError, type Logger } from '@colloquy/api';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { ZodError } from 'zod';
import { FieldError } from './request-fields.ts';

/**
 * HTTP status and a readable detail for anything a procedure call (or a service) threw (and, for
 * a 429, the seconds to send as `Retry-After`). Server-side failures are logged to `log` (the
 * request's logger) and answered without details.
 */
export function describeProcedureError(
  err: unknown,
  log: Pick<Logger, 'error'>,
): { status: number; detail: string; retryAfterSeconds?: number } {
  if (err instanceof FieldError) return { status: 400, detail: err.message };
  if (err instanceof AppError) return describeProcedureError(new TRPCError({ code: err.code, message: err.message, cause: err }), log);
  if (err instanceof TRPCError) {
    const status = getHTTPStatusCodeFromError(err);
    if (err.cause instanceof ZodError) return { status, detail: describeZodError(err.cause) };
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
