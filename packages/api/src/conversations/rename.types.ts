import { z } from 'zod';
import { idSchema, labelSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

export const renameConversationInput = z
  .object({ ...userFields, id: idSchema, name: labelSchema(200) })
  .strict();
export type RenameConversationInput = z.input<typeof renameConversationInput>;
