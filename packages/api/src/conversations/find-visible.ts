import type { ConversationRecord } from '@colloquy/store';
import { isVisible, type Actor, type Context } from '../context.ts';
import { notFound } from '../errors/app-error.ts';

/** The conversation if the actor may see it; otherwise the same 404 as a missing one. */
export async function findVisibleConversation(ctx: Context, actor: Actor, id: string): Promise<ConversationRecord> {
  const conversation = await ctx.services.store.conversations.get(id);
  if (!conversation || !isVisible(actor, conversation.userId)) throw notFound('Conversation');
  return conversation;
}
