import { z } from 'zod';
import { idSchema, limitSchema, pageSchema, recordIdSchema } from '../schemas/common.ts';
import { messageSchema } from '../schemas/records.ts';
import { userFields } from '../schemas/user-input.ts';

export const listMessagesInput = z
  .object({
    ...userFields,
    conversationId: idSchema,
    limit: limitSchema.default(50),
    cursor: z.string().max(512).optional(),
    /**
     * Page backwards (Dify's `first_id`): the `limit` messages just before this one, still oldest
     * first; `nextCursor` then pages further back.
     */
    beforeId: recordIdSchema.optional(),
    /** Page backwards from the end: the conversation's last `limit` messages first. */
    fromEnd: z.boolean().optional(),
  })
  .strict();

export const listMessagesOutput = pageSchema(messageSchema);
export type ListMessagesInput = z.input<typeof listMessagesInput>;
export type ListMessagesOutput = z.infer<typeof listMessagesOutput>;
