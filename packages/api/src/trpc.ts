import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError, z } from 'zod';
import { userFrom, type Actor, type FieldSource } from './access.ts';
import { actorOf, type Context } from './context.ts';
import { AppError } from './errors/app-error.ts';
import { describeZodError } from './errors/describe-zod-error.ts';
import { toTRPCError } from './errors/to-trpc-error.ts';
import { userIdSchema } from './schemas/common.ts';

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

/** The user a call names, checked like the `user` field of every input (so a bad one is the same 400). */
const namedUserSchema = z.object({ user: userIdSchema.optional() });

/**
 * Whom a call acts for: resolved (see access.ts) from the caller's identity and the user its raw
 * input names (`user`, alias `user_id`; a form's fields too), before the input itself is parsed.
 */
export function actorOfInput(ctx: Context, raw: unknown): Actor {
  const source = typeof raw === 'object' ? (raw as FieldSource) : undefined;
  const named = namedUserSchema.safeParse({ user: userFrom(source) ?? undefined });
  if (!named.success) throw new TRPCError({ code: 'BAD_REQUEST', message: named.error.message, cause: named.error });
  return actorOf(ctx, named.data.user);
}

/** A procedure that acts for someone: `ctx.actor` is actorOfInput's. */
export const actorProcedure = publicProcedure.use(async ({ ctx, getRawInput, next }) =>
  next({ ctx: { actor: actorOfInput(ctx, await getRawInput()) } }),
);
