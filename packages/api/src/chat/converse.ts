import { toIso } from '../schemas/common.ts';
import { actorProcedure } from '../trpc.ts';
import { answerSchema } from './converse.types.ts';
import { startTurn } from './start-turn.ts';
import { turnInput } from './turn-input.types.ts';

/** The blocking form: runs the turn to its end and returns the stored answer. */
export const converse = actorProcedure
  .input(turnInput)
  .output(answerSchema)
  .mutation(async ({ ctx, input }) => {
    const started = await startTurn(ctx, input);
    const message = await ctx.services.turns.wait(started.messageId);
    return {
      answer: message.content,
      conversationId: message.conversationId,
      messageId: message.id,
      status: message.status,
      usage: message.usage,
      citations: message.citations,
      error: message.error,
      createdAt: toIso(message.createdAt),
    };
  });
