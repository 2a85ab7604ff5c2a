import { decodeAfterIdCursor, encodeCursor } from '../schemas/cursor.ts';
import { rowsFor, toPage } from '../schemas/page.ts';
import { presentFile } from '../schemas/presenters.ts';
import { actorProcedure } from '../trpc.ts';
import { listFilesInput, listFilesOutput } from './list.types.ts';

/** Files newest first. */
export const listFiles = actorProcedure
  .input(listFilesInput)
  .output(listFilesOutput)
  .query(async ({ ctx, input }) => {
    const rows = await ctx.services.store.files.list({
      userId: ctx.actor.scope,
      limit: rowsFor(input.limit),
      afterId: input.cursor === undefined ? undefined : decodeAfterIdCursor(input.cursor),
    });
    return toPage(rows, input.limit, presentFile, (last) => encodeCursor({ afterId: last.id }));
  });
