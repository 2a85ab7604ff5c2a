import { initTRPC } from '@trpc/server';
import { ZodError, z } from 'zod';
import type { Context } from './context.ts';
import { AppError } from './errors/app-error.ts';
import { describeZodError } from './errors/describe-zod-error.ts';
import { toTRPCError } from './errors/to-trpc-error.ts';

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : undefined;
    return {
      ...shape,
      // A readable summary instead of zod's JSON dump of issues.
      message: zodError ? describeZodError(zodError) : shape.message,
      // Never ship stack traces to clients.
      data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path, zodError: zodError ? z.flattenError(zodError) : null },
    };
  },
  sse: {
    // Keep proxies from cutting idle streams and let clients notice dead connections.
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 25_000 },
  },
});

/** Turns AppErrors (and anything unexpected) into TRPCErrors in one place. */
const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) throw toTRPCError(result.error.cause);
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(appErrors);
