import { fileSchema } from '../schemas/records.ts';
import { presentFile } from '../schemas/presenters.ts';
import { actorProcedure } from '../trpc.ts';
import { fileByIdInput } from './by-id.types.ts';
import { findVisibleFile } from './find-visible.ts';

export const getFile = actorProcedure
  .input(fileByIdInput)
  .output(fileSchema)
  .query(async ({ ctx, input }) => presentFile(await findVisibleFile(ctx.services.store, ctx.actor, input.id)));
