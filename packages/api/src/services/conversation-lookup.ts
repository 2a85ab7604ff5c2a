import type { ConversationRecord, Store } from '@colloquy/store';
import { findByOwnId, type Actor } from '../access.ts';

/** The conversation an actor means by an id (see findByOwnId: a 409 when that is ambiguous). */
export function lookupConversation(store: Store, actor: Actor, id: string): Promise<ConversationRecord | undefined> {
  return findByOwnId(
    actor,
    id,
    { own: (owner, cid) => store.conversations.get(owner, cid), anyOwner: (cid, limit) => store.conversations.findById(cid, limit) },
    `conversation id ${id} is used by several users; name the user (user or user_id)`,
  );
}
