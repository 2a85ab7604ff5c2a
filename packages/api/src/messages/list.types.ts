import { z } from 'zod';
import { idSchema, limitSchema, pageSchema } from '../schemas/common.ts';
import { messageSchema } from '../schemas/records.ts';
import { userFields } from '../schemas/user-input.ts';

export const listMessagesInput = z
  .object({
    ...userFields,
    conversationId: idSchema,
    limit: limitSchema.default(50),
    cursor: z.string().max(512).optional(),
  })
  .strict();

export const listMessagesOutput = pageSchema(messageSchema);
export type ListMessagesInput = z.input<typeof listMessagesInput>;
export type ListMessagesOutput = z.infer<typeof listMessagesOutput>;
