import { resolveActor } from '../context.ts';
import { publicProcedure } from '../trpc.ts';
import { stopInput, stopOutput } from './stop.types.ts';

/** Cancels the generation (the upstream call is aborted); the partial answer is kept. */
export const stop = publicProcedure
  .input(stopInput)
  .output(stopOutput)
  .mutation(async ({ ctx, input }) => {
    const message = await ctx.services.turns.stop(resolveActor(ctx, input.user), input.messageId);
    return { messageId: message.id, status: message.status };
  });
