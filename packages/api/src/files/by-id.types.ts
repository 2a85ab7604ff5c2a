import { z } from 'zod';
import { userFields } from '../schemas/user-input.ts';

export const fileByIdInput = z.object({ ...userFields, id: z.string().min(1).max(128) }).strict();
export const deleteFileOutput = z.object({ id: z.string(), deleted: z.literal(true) });
export type FileByIdInput = z.input<typeof fileByIdInput>;
