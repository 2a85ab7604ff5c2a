import { describeZodError } from '@colloquy/api';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { ZodError } from 'zod';
import { FieldError } from './request-fields.ts';

/** HTTP status and a readable detail for anything a procedure call threw. */
export function describeProcedureError(err: unknown): { status: number; detail: string } {
  if (err instanceof FieldError) return { status: 400, detail: err.message };
  if (err instanceof TRPCError) {
    const status = getHTTPStatusCodeFromError(err);
    if (err.cause instanceof ZodError) return { status, detail: describeZodError(err.cause) };
    if (status >= 500) {
      console.error('[colloquy] procedure failed:', err.cause ?? err);
      return { status, detail: 'internal server error' };
    }
    return { status, detail: err.message };
  }
  console.error('[colloquy] unexpected error:', err);
  return { status: 500, detail: 'internal server error' };
}
