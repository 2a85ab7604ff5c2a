import { resolveActor } from '../context.ts';
import { fileSchema } from '../schemas/records.ts';
import { presentFile } from '../schemas/presenters.ts';
import { publicProcedure } from '../trpc.ts';
import { fileByIdInput } from './by-id.types.ts';
import { findVisibleFile } from './find-visible.ts';

export const getFile = publicProcedure
  .input(fileByIdInput)
  .output(fileSchema)
  .query(async ({ ctx, input }) => presentFile(await findVisibleFile(ctx, resolveActor(ctx, input.user), input.id)));
