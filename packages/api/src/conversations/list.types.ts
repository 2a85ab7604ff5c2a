import { z } from 'zod';
import { idSchema, labelSchema, limitSchema, pageSchema } from '../schemas/common.ts';
import { conversationSchema } from '../schemas/records.ts';
import { userFields } from '../schemas/user-input.ts';

export const listConversationsInput = z
  .object({
    ...userFields,
    limit: limitSchema.default(20),
    /** Opaque cursor from a previous page's `nextCursor`. */
    cursor: z.string().max(512).optional(),
    /** Alternative to `cursor`: the id of the last conversation already seen (Dify's `last_id`). */
    lastId: idSchema.optional(),
    managerId: labelSchema(128).optional(),
  })
  .strict();

export const listConversationsOutput = pageSchema(conversationSchema);

export type ListConversationsInput = z.input<typeof listConversationsInput>;
export type ListConversationsOutput = z.infer<typeof listConversationsOutput>;
