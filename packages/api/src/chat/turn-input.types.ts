import { z } from 'zod';
import { fileRefSchema, idSchema, labelSchema, textSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

/** What starts a turn: shared by `chat.send` (streaming) and `chat.converse` (blocking). */
export const turnInput = z
  .object({
    ...userFields,
    // Hard caps only: the configured MAX_QUERY_CHARS / MAX_FILES_PER_TURN (413) are the limits.
    query: textSchema(1_000_000),
    conversationId: idSchema.optional(),
    /** File ids, or the path strings used at upload. */
    files: z.array(fileRefSchema).max(1000).optional(),
    agent: labelSchema(64).optional(),
    /** Opaque tag stored with a new conversation; conversations can be listed by it. */
    managerId: labelSchema(128).optional(),
  })
  .strict();

export type TurnInputSchema = z.input<typeof turnInput>;
