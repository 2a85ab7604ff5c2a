import { TRPCError } from '@trpc/server';
import { AppError } from './app-error.ts';

/** Converts anything thrown by a service into a TRPCError without leaking internals. */
export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  if (err instanceof AppError) return new TRPCError({ code: err.code, message: err.message, cause: err });
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error', cause: err });
}
