import { getTRPCErrorShape, TRPCError, type AnyTRPCRouter } from '@trpc/server';
import type { RequestHandler } from 'express';
import type { z } from 'zod';

interface SubscriptionProcedure {
  _def: { type: string; inputs: unknown[] };
}

/**
 * tRPC answers every error of a subscription inside the SSE stream it has already begun: HTTP
 * 200, then an error event. Bad input is known before any stream exists, so it is answered here
 * as what it is — a 400 with tRPC's own error body (the same a query would get), before tRPC
 * starts the stream. The input is read as tRPC reads it: `?input=` JSON, with `Last-Event-Id`
 * (header or query) merged in as `lastEventId`, and checked with the procedure's own schemas.
 */
export function subscriptionInputGuard(router: AnyTRPCRouter): RequestHandler {
  const procedures = router._def.procedures as unknown as Record<string, SubscriptionProcedure>;
  return async (req, res, next) => {
    // Mounted at /trpc: req.path is `/<procedure>`.
    const path = req.path.slice(1);
    const procedure = procedures[path];
    if (req.method !== 'GET' || procedure?._def.type !== 'subscription') {
      next();
      return;
    }
    const url = new URL(req.originalUrl, 'http://localhost');
    let input: unknown;
    let cause: unknown;
    try {
      const raw = url.searchParams.get('input');
      input = raw === null ? undefined : JSON.parse(raw);
    } catch (err) {
      cause = err;
    }
    if (cause === undefined) {
      const lastEventId = req.get('last-event-id') ?? url.searchParams.get('lastEventId') ?? url.searchParams.get('Last-Event-Id');
      if (lastEventId !== null && lastEventId !== undefined) {
        input = typeof input === 'object' && input !== null && !Array.isArray(input) ? { ...input, lastEventId } : (input ?? { lastEventId });
      }
      for (const schema of procedure._def.inputs as z.ZodType[]) {
        const checked = await schema.safeParseAsync(input);
        if (!checked.success) {
          cause = checked.error;
          break;
        }
      }
    }
    if (cause === undefined) {
      // The checked input, for a handler that serves the subscription itself (trpc-events-route.ts).
      res.locals.subscriptionInput = input;
      next();
      return;
    }
    const error = new TRPCError({
      code: 'BAD_REQUEST',
      message: cause instanceof SyntaxError ? 'the input is not valid JSON' : 'invalid input',
      cause,
    });
    const shape = getTRPCErrorShape({ config: router._def._config, error, type: 'subscription', path, input, ctx: undefined });
    res.status(400).json({ error: shape });
  };
}
