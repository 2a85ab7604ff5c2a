import { resolveActor } from '../context.ts';
import { conversationSchema } from '../schemas/records.ts';
import { presentConversation } from '../schemas/presenters.ts';
import { publicProcedure } from '../trpc.ts';
import { conversationByIdInput } from './by-id.types.ts';
import { findVisibleConversation } from './find-visible.ts';

export const getConversation = publicProcedure
  .input(conversationByIdInput)
  .output(conversationSchema)
  .query(async ({ ctx, input }) =>
    presentConversation(await findVisibleConversation(ctx, resolveActor(ctx, input.user), input.id)),
  );
