import type { ConversationRecord, Store } from '@colloquy/store';
import type { Actor } from '../access.ts';
import { AppError } from '../errors/app-error.ts';

/**
 * The conversation an actor means by an id. Conversation ids are chosen by clients, so each user
 * has ids of their own: an actor confined to one user (a user key, or any call naming a user)
 * means that user's conversation, and another user's with the same id simply does not exist for
 * it. An actor that sees every user (an admin key, or open mode, naming no user) means the one
 * conversation with that id; if several users have one, the id alone does not say which: a 409
 * asking to name the user (never a guess, and nothing is hidden from such an actor).
 */
export async function lookupConversation(store: Store, actor: Actor, id: string): Promise<ConversationRecord | undefined> {
  if (actor.scope !== undefined) return store.conversations.get(actor.scope, id);
  const found = await store.conversations.findById(id, 2);
  if (found.length > 1) {
    throw new AppError('CONFLICT', `conversation id ${id} is used by several users; name the user (user or user_id)`);
  }
  return found[0];
}
