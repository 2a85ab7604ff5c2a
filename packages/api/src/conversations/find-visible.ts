import type { ConversationRecord } from '@colloquy/store';
import type { Actor, Context } from '../context.ts';
import { notFound } from '../errors/app-error.ts';
import { lookupConversation } from '../services/conversation-lookup.ts';

/** The conversation the actor means by `id` (see lookupConversation); a 404 when there is none. */
export async function findVisibleConversation(ctx: Context, actor: Actor, id: string): Promise<ConversationRecord> {
  const conversation = await lookupConversation(ctx.services.store, actor, id);
  if (!conversation) throw notFound('Conversation');
  return conversation;
}
