import { notFound } from '../errors/app-error.ts';
import { actorProcedure } from '../trpc.ts';
import { deleteFileOutput, fileByIdInput } from './by-id.types.ts';
import { findVisibleFile } from './find-visible.ts';

export const deleteFile = actorProcedure
  .input(fileByIdInput)
  .output(deleteFileOutput)
  .mutation(async ({ ctx, input }) => {
    const { store, blobs } = ctx.services;
    const file = await findVisibleFile(ctx.services.store, ctx.actor, input.id);
    if (!(await store.files.delete(file.id))) throw notFound('File');
    // Blobs are shared by content: remove this one only when no record points at it any more.
    if ((await store.files.countBySha256(file.sha256)) === 0) await blobs.remove(file.sha256);
    return { id: file.id, deleted: true as const };
  });
