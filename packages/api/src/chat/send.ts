import { actorProcedure } from '../trpc.ts';
import { sendOutput } from './send.types.ts';
import { startTurn } from './start-turn.ts';
import { turnInput } from './turn-input.types.ts';

/** Starts a turn and returns at once; stream it with `chat.events`. */
export const send = actorProcedure
  .input(turnInput)
  .output(sendOutput)
  .mutation(({ ctx, input }) => startTurn(ctx, input));
