import { conversationSchema } from '../schemas/records.ts';
import { presentConversation } from '../schemas/presenters.ts';
import { actorProcedure } from '../trpc.ts';
import { conversationByIdInput } from './by-id.types.ts';
import { findVisibleConversation } from './find-visible.ts';

export const getConversation = actorProcedure
  .input(conversationByIdInput)
  .output(conversationSchema)
  .query(async ({ ctx, input }) =>
    presentConversation(await findVisibleConversation(ctx.services.store, ctx.actor, input.id)),
  );
