import type { ConversationRecord, Store } from '@colloquy/store';
import { nameFromQuery } from '../services/conversation-name.ts';
import { notFound } from '../errors/app-error.ts';
import { conversationSchema } from '../schemas/records.ts';
import { presentConversation } from '../schemas/presenters.ts';
import { actorProcedure } from '../trpc.ts';
import { findVisibleConversation } from './find-visible.ts';
import { renameConversationInput } from './rename.types.ts';

export const renameConversation = actorProcedure
  .input(renameConversationInput)
  .output(conversationSchema)
  .mutation(async ({ ctx, input }) => {
    const { store } = ctx.services;
    const conversation = await findVisibleConversation(ctx.services.store, ctx.actor, input.id);
    // A name given wins over autoGenerate, as in Dify.
    const name = input.name ?? (await generatedName(store, conversation)) ?? conversation.name;
    const updated = await store.conversations.update(conversation.userId, conversation.id, {
      name,
      updatedAt: Date.now(),
    });
    if (!updated) throw notFound('Conversation');
    return presentConversation(updated);
  });

/** The name a conversation gets from its first question (undefined when it has none). */
async function generatedName(store: Store, conversation: ConversationRecord): Promise<string | undefined> {
  const [first] = await store.messages.list({ userId: conversation.userId, conversationId: conversation.id, limit: 1 });
  return first && first.role === 'user' && first.content.trim() !== '' ? nameFromQuery(first.content) : undefined;
}
