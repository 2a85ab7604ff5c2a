import { z } from 'zod';
import { limitSchema, pageSchema } from '../schemas/common.ts';
import { fileSchema } from '../schemas/records.ts';
import { userFields } from '../schemas/user-input.ts';

export const listFilesInput = z
  .object({ ...userFields, limit: limitSchema.default(50), cursor: z.string().max(512).optional() })
  .strict();
export const listFilesOutput = pageSchema(fileSchema);
export type ListFilesInput = z.input<typeof listFilesInput>;
