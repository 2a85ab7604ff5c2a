import { resolveActor } from '../context.ts';
import { notFound } from '../errors/app-error.ts';
import { conversationSchema } from '../schemas/records.ts';
import { presentConversation } from '../schemas/presenters.ts';
import { publicProcedure } from '../trpc.ts';
import { findVisibleConversation } from './find-visible.ts';
import { renameConversationInput } from './rename.types.ts';

export const renameConversation = publicProcedure
  .input(renameConversationInput)
  .output(conversationSchema)
  .mutation(async ({ ctx, input }) => {
    const conversation = await findVisibleConversation(ctx, resolveActor(ctx, input.user), input.id);
    const updated = await ctx.services.store.conversations.update(conversation.userId, conversation.id, {
      name: input.name,
      updatedAt: Date.now(),
    });
    if (!updated) throw notFound('Conversation');
    return presentConversation(updated);
  });
