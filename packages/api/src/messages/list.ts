import { findVisibleConversation } from '../conversations/find-visible.ts';
import { AppError, notFound } from '../errors/app-error.ts';
import { decodeMessageCursor, encodeCursor } from '../schemas/cursor.ts';
import { rowsFor, toPage } from '../schemas/page.ts';
import { presentMessage } from '../schemas/presenters.ts';
import { actorProcedure } from '../trpc.ts';
import { listMessagesInput, listMessagesOutput } from './list.types.ts';

/**
 * A conversation's messages, oldest first: forwards from the start (`cursor` pages on), or
 * backwards from the end or from before a message (`fromEnd`, `beforeId`; Dify's `first_id`).
 */
export const listMessages = actorProcedure
  .input(listMessagesInput)
  .output(listMessagesOutput)
  .query(async ({ ctx, input }) => {
    const conversation = await findVisibleConversation(ctx.services.store, ctx.actor, input.conversationId);
    const { store } = ctx.services;
    const cursor = input.cursor === undefined ? undefined : decodeMessageCursor(input.cursor);
    if (input.beforeId !== undefined && cursor !== undefined) throw new AppError('BAD_REQUEST', 'give cursor or beforeId, not both');
    const beforeId = input.beforeId ?? (cursor && 'beforeId' in cursor ? cursor.beforeId : undefined);
    if (input.beforeId !== undefined) {
      // An anchor that is not a message of this conversation is reported like a missing one.
      const anchor = await store.messages.get(input.beforeId);
      if (!anchor || anchor.userId !== conversation.userId || anchor.conversationId !== conversation.id) throw notFound('Message');
    }
    const backwards = beforeId !== undefined || input.fromEnd === true;
    const rows = await store.messages.list({
      userId: conversation.userId,
      conversationId: conversation.id,
      limit: rowsFor(input.limit),
      afterId: cursor && 'afterId' in cursor ? cursor.afterId : undefined,
      beforeId,
      fromEnd: backwards,
    });
    // Backwards pages come oldest first too: the extra row is the first.
    return backwards
      ? toPage(rows, input.limit, presentMessage, (edge) => encodeCursor({ beforeId: edge.id }), 'backwards')
      : toPage(rows, input.limit, presentMessage, (edge) => encodeCursor({ afterId: edge.id }));
  });
