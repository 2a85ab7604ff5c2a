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
    /**
     * Opaque tag stored with a new conversation; conversations can be listed by it. Over tRPC,
     * continuing a conversation with a different one is a 409 (REST ignores it, as the original API).
     */
    managerId: labelSchema(128).optional(),
    /**
     * The id the answer (the assistant message) gets, chosen by the client so it can re-attach
     * to or stop a turn whose `send` it never saw answered. A UUID, so ids stay unguessable; one
     * already in use is a 409 and changes nothing.
     */
    messageId: z.uuid('must be a UUID').optional(),
  })
  .strict();

export type TurnInputSchema = z.input<typeof turnInput>;
