import { decodeAfterIdCursor, encodeCursor } from '../schemas/cursor.ts';
import { presentFile } from '../schemas/presenters.ts';
import { actorProcedure } from '../trpc.ts';
import { listFilesInput, listFilesOutput } from './list.types.ts';

/** Files newest first. */
export const listFiles = actorProcedure
  .input(listFilesInput)
  .output(listFilesOutput)
  .query(async ({ ctx, input }) => {
    const { actor } = ctx;
    const rows = await ctx.services.store.files.list({
      userId: actor.scope,
      limit: input.limit + 1,
      afterId: input.cursor === undefined ? undefined : decodeAfterIdCursor(input.cursor),
    });
    const items = rows.slice(0, input.limit);
    const last = items.at(-1);
    return {
      items: items.map(presentFile),
      nextCursor: rows.length > input.limit && last ? encodeCursor({ afterId: last.id }) : null,
    };
  });
