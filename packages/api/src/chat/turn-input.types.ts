import { z } from 'zod';
import { idSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

/** What starts a turn: shared by `chat.send` (streaming) and `chat.converse` (blocking). */
export const turnInput = z
  .object({
    ...userFields,
    query: z.string().trim().min(1, 'query is required').max(100_000),
    conversationId: idSchema.optional(),
    /** File ids, or the path strings used at upload. */
    files: z.array(z.string().min(1).max(4096)).max(100).optional(),
    agent: z.string().trim().min(1).max(64).optional(),
    /** Opaque tag stored with a new conversation; conversations can be listed by it. */
    managerId: z.string().trim().min(1).max(128).optional(),
  })
  .strict();

export type TurnInputSchema = z.input<typeof turnInput>;
