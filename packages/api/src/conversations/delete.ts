import { resolveActor } from '../context.ts';
import { notFound } from '../errors/app-error.ts';
import { publicProcedure } from '../trpc.ts';
import { conversationByIdInput } from './by-id.types.ts';
import { deleteConversationOutput } from './delete.types.ts';
import { findVisibleConversation } from './find-visible.ts';

export const deleteConversation = publicProcedure
  .input(conversationByIdInput)
  .output(deleteConversationOutput)
  .mutation(async ({ ctx, input }) => {
    const conversation = await findVisibleConversation(ctx, resolveActor(ctx, input.user), input.id);
    if (!(await ctx.services.store.conversations.delete(conversation.userId, conversation.id))) throw notFound('Conversation');
    return { id: input.id, deleted: true as const };
  });
