import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { AppError } from './app-error.ts';

/**
 * The HTTP status of an AppError (or its code, or a TRPCError's): tRPC's mapping, the one every surface answers
 * with — tRPC itself, the REST routes, the OpenAI and Dify adapters and the WebSocket refusals.
 */
export function httpStatusOf(err: AppError | TRPCError['code']): number {
  return getHTTPStatusCodeFromError(new TRPCError({ code: err instanceof AppError ? err.code : err }));
}
