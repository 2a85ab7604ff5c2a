import { z } from 'zod';
import { recordIdSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

export const fileByIdInput = z.object({ ...userFields, id: recordIdSchema }).strict();
export const deleteFileOutput = z.object({ id: z.string(), deleted: z.literal(true) });
export type FileByIdInput = z.input<typeof fileByIdInput>;
