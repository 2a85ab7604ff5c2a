import { z } from 'zod';
import { fileRefSchema, idSchema, inputsSchema, labelSchema, textSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

/** One earlier message a client sends along (an OpenAI-style request carries its whole history). */
export const historyMessageSchema = z
  .object({
    role: z.enum(['system', 'user', 'assistant']),
    content: z
      .string()
      .max(1_000_000, 'must be at most 1000000 characters')
      .refine((v) => !v.includes('\0'), 'must not contain NUL characters'),
  })
  .strict();

/**
 * Which conversation a turn belongs to. `auto` (the original API's rule): the given id's
 * (created if new), else the user's latest. `new`: a new conversation (with the given id, which
 * must then be unused: 409), never the latest. `existing`: the given id's, which must exist (404).
 */
export const conversationModeSchema = z.enum(['auto', 'new', 'existing']);

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
    /** See conversationModeSchema; default `auto`. */
    conversationMode: conversationModeSchema.optional(),
    /**
     * The history the agent gets instead of the stored conversation's (oldest first, the query
     * excluded): what an OpenAI-style client sends. Only the query and the answer are stored.
     */
    history: z.array(historyMessageSchema).max(10_000).optional(),
    /** App inputs (Dify's `inputs`), kept with a new conversation; a continued one keeps its own. */
    inputs: inputsSchema.optional(),
  })
  .strict();

export type TurnInputSchema = z.input<typeof turnInput>;
