import { notFound } from '../errors/app-error.ts';
import { actorProcedure } from '../trpc.ts';
import { conversationByIdInput } from './by-id.types.ts';
import { deleteConversationOutput } from './delete.types.ts';
import { findVisibleConversation } from './find-visible.ts';

export const deleteConversation = actorProcedure
  .input(conversationByIdInput)
  .output(deleteConversationOutput)
  .mutation(async ({ ctx, input }) => {
    const conversation = await findVisibleConversation(ctx.services.store, ctx.actor, input.id);
    if (!(await ctx.services.store.conversations.delete(conversation.userId, conversation.id))) throw notFound('Conversation');
    return { id: input.id, deleted: true as const };
  });
