import { actorProcedure } from '../trpc.ts';
import { stopInput, stopOutput } from './stop.types.ts';

/** Cancels the generation (the upstream call is aborted); the partial answer is kept. */
export const stop = actorProcedure
  .input(stopInput)
  .output(stopOutput)
  .mutation(async ({ ctx, input }) => {
    const message = await ctx.services.turns.stop(ctx.actor, input.messageId);
    return { messageId: message.id, status: message.status };
  });
