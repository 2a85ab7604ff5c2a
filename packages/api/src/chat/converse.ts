import { TRPCError } from '@trpc/server';
import type { z } from 'zod';
import type { Actor } from '../access.ts';
import type { Context } from '../context.ts';
import { toTRPCError } from '../errors/to-trpc-error.ts';
import { toIso } from '../schemas/common.ts';
import { actorOfInput, actorProcedure } from '../trpc.ts';
import { answerSchema, type Answer } from './converse.types.ts';
import { startTurn } from './start-turn.ts';
import { turnInput, type TurnInputSchema } from './turn-input.types.ts';

/** Runs the turn to its end and returns the stored answer. */
async function runConverse(ctx: Context & { actor: Actor }, input: z.output<typeof turnInput>): Promise<Answer> {
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
}

/** The blocking form: runs the turn to its end and returns the stored answer. */
export const converse = actorProcedure
  .input(turnInput)
  .output(answerSchema)
  .mutation(({ ctx, input }) => runConverse(ctx, input));

/**
 * `chat.converse` as a server-side caller runs it (the actor from the input's user, the input
 * checked by turnInput, failures as the same TRPCErrors), without tRPC's caller and middleware
 * chain: the REST layer's blocking /converse is the hot path under load, and that chain (a
 * context spread per middleware, input and output validators) was ~6 % of its CPU per request
 * (bench/README.md, "Throughput under load"). The answer is built from the stored record, typed
 * by answerSchema, so the output check is left to the tRPC path.
 */
export async function converseDirect(ctx: Context, raw: TurnInputSchema): Promise<Answer> {
  try {
    const actor = actorOfInput(ctx, raw);
    const parsed = turnInput.safeParse(raw);
    if (!parsed.success) throw new TRPCError({ code: 'BAD_REQUEST', cause: parsed.error });
    return await runConverse({ ...ctx, actor }, parsed.data);
  } catch (err) {
    throw toTRPCError(err);
  }
}
