import { AppError } from '../errors/app-error.ts';
import { decodeConversationCursor, encodeCursor } from '../schemas/cursor.ts';
import { rowsFor, toPage } from '../schemas/page.ts';
import { presentConversation } from '../schemas/presenters.ts';
import { lookupConversation } from '../services/conversation-lookup.ts';
import { actorProcedure } from '../trpc.ts';
import { listConversationsInput, listConversationsOutput } from './list.types.ts';

export const listConversations = actorProcedure
  .input(listConversationsInput)
  .output(listConversationsOutput)
  .query(async ({ ctx, input }) => {
    const { actor } = ctx;
    const { store } = ctx.services;
    let after = input.cursor === undefined ? undefined : decodeConversationCursor(input.cursor);
    if (!after && input.lastId !== undefined) {
      const last = await lookupConversation(store, actor, input.lastId);
      if (!last) throw new AppError('BAD_REQUEST', `Unknown last_id: ${input.lastId}`);
      after = { updatedAt: last.updatedAt, id: last.id, userId: last.userId };
    }
    const rows = await store.conversations.list({
      userId: actor.scope,
      managerId: input.managerId,
      limit: rowsFor(input.limit),
      after,
    });
    return toPage(rows, input.limit, presentConversation, (last) => encodeCursor({ updatedAt: last.updatedAt, id: last.id, userId: last.userId }));
  });
