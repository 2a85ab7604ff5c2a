import { presentFile } from '../schemas/presenters.ts';
import { uploadByPaths } from '../services/path-upload.ts';
import { actorProcedure } from '../trpc.ts';
import { uploadPathsInput, uploadPathsOutput } from './upload-paths.types.ts';

export const uploadPaths = actorProcedure
  .input(uploadPathsInput)
  .output(uploadPathsOutput)
  .mutation(async ({ ctx, input }) => {
    const { actor } = ctx;
    const records = await uploadByPaths(ctx.services, actor.owner, input.paths);
    return records.map(presentFile);
  });
