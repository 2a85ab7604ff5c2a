import type { ConversationRecord, Store } from '@colloquy/store';
import type { Actor } from '../access.ts';
import { notFound } from '../errors/app-error.ts';
import { lookupConversation } from '../services/conversation-lookup.ts';

/** The conversation the actor means by `id` (see lookupConversation); a 404 when there is none. */
export async function findVisibleConversation(store: Store, actor: Actor, id: string): Promise<ConversationRecord> {
  const conversation = await lookupConversation(store, actor, id);
  if (!conversation) throw notFound('Conversation');
  return conversation;
}
