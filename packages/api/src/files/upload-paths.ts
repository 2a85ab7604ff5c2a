import { resolveActor } from '../context.ts';
import { presentFile } from '../schemas/presenters.ts';
import { uploadByPaths } from '../services/path-upload.ts';
import { publicProcedure } from '../trpc.ts';
import { uploadPathsInput, uploadPathsOutput } from './upload-paths.types.ts';

export const uploadPaths = publicProcedure
  .input(uploadPathsInput)
  .output(uploadPathsOutput)
  .mutation(async ({ ctx, input }) => {
    const actor = resolveActor(ctx, input.user);
    const records = await uploadByPaths(ctx.services, actor.owner, input.paths);
    return records.map(presentFile);
  });
