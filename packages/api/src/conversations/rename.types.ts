import { z } from 'zod';
import { idSchema, labelSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

/**
 * A new name, or `autoGenerate: true` to name it from its first question (Dify's
 * `auto_generate`; the name is made the way a new conversation's is, not by a model).
 */
export const renameConversationInput = z
  .object({ ...userFields, id: idSchema, name: labelSchema(200).optional(), autoGenerate: z.boolean().optional() })
  .strict()
  .refine((v) => v.name !== undefined || v.autoGenerate === true, { message: 'give a name, or autoGenerate: true', path: ['name'] });
export type RenameConversationInput = z.input<typeof renameConversationInput>;
