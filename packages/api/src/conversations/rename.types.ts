import { z } from 'zod';
import { idSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

export const renameConversationInput = z
  .object({ ...userFields, id: idSchema, name: z.string().trim().min(1).max(200) })
  .strict();
export type RenameConversationInput = z.input<typeof renameConversationInput>;
