import { findVisibleConversation } from '../conversations/find-visible.ts';
import { resolveActor } from '../context.ts';
import { decodeAfterIdCursor, encodeCursor } from '../schemas/cursor.ts';
import { presentMessage } from '../schemas/presenters.ts';
import { publicProcedure } from '../trpc.ts';
import { listMessagesInput, listMessagesOutput } from './list.types.ts';

/** A conversation's messages, oldest first. */
export const listMessages = publicProcedure
  .input(listMessagesInput)
  .output(listMessagesOutput)
  .query(async ({ ctx, input }) => {
    const conversation = await findVisibleConversation(ctx, resolveActor(ctx, input.user), input.conversationId);
    const rows = await ctx.services.store.messages.list({
      userId: conversation.userId,
      conversationId: conversation.id,
      limit: input.limit + 1,
      afterId: input.cursor === undefined ? undefined : decodeAfterIdCursor(input.cursor),
    });
    const items = rows.slice(0, input.limit);
    const last = items.at(-1);
    return {
      items: items.map(presentMessage),
      nextCursor: rows.length > input.limit && last ? encodeCursor({ afterId: last.id }) : null,
    };
  });
