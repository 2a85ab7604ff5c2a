import { presentFile } from '../schemas/presenters.ts';
import { fileTooLarge, uploadFile } from '../services/file-upload.ts';
import { actorProcedure } from '../trpc.ts';
import { uploadFileInput, uploadFileOutput } from './upload.types.ts';

/**
 * Stores an uploaded file (`FormData` with a `file` field), as `POST /files` does. The storage
 * path is the same: streamed to staging while hashed and size-checked, then renamed in.
 */
export const upload = actorProcedure
  .input(uploadFileInput)
  .output(uploadFileOutput)
  .mutation(async ({ ctx, input }) => {
    const { maxFileBytes } = ctx.services.config;
    if (input.file.size > maxFileBytes) throw fileTooLarge(maxFileBytes);
    const name = 'name' in input.file && typeof input.file.name === 'string' ? input.file.name : undefined;
    return presentFile(await uploadFile(ctx.services, ctx.actor, { name, content: input.file.stream() }));
  });
