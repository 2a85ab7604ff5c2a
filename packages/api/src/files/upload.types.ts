import { z } from 'zod';
import { userFrom } from '../access.ts';
import { userIdSchema } from '../schemas/common.ts';
import { fileSchema } from '../schemas/records.ts';

const fileField = z.custom<File>(
  (v) => v instanceof Blob,
  'the form must have a `file` field holding the file (multipart/form-data)',
);

/**
 * A multipart form (sent as `FormData`): `file` is the file, its name the stored name; `user`
 * (alias `user_id`) as in every procedure.
 */
export const uploadFileInput = z
  .instanceof(FormData, { message: 'expected multipart/form-data' })
  // The fields' types are checked by the schema piped to (a form may hold anything).
  .transform((form) => ({ file: form.get('file') ?? undefined, user: userFrom(form) ?? undefined }) as { file: File; user?: string })
  .pipe(z.object({ file: fileField, user: userIdSchema.optional() }));

export const uploadFileOutput = fileSchema;
export type UploadFileInput = z.input<typeof uploadFileInput>;
