import { z } from 'zod';
import { fileRefSchema } from '../schemas/common.ts';
import { fileSchema } from '../schemas/records.ts';
import { userFields } from '../schemas/user-input.ts';

export const uploadPathsInput = z
  .object({
    ...userFields,
    /** Server-side paths, relative to the first upload root or absolute inside a root. */
    paths: z.array(fileRefSchema).min(1),
  })
  .strict();

export const uploadPathsOutput = z.array(fileSchema);
export type UploadPathsInput = z.input<typeof uploadPathsInput>;
