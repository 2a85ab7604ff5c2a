import { z } from 'zod';
import { messageStatusSchema } from './records.ts';

/**
 * The stream event model, the same on every transport (tRPC SSE, REST NDJSON). Field names
 * follow Dify's chat API so Dify users recognise them.
 */
const base = {
  /** Position in the message's stream; pass it back as `lastEventId` to resume after it. */
  id: z.string(),
  conversation_id: z.string(),
  message_id: z.string(),
  /** Unix seconds, as Dify sends it. */
  created_at: z.number().int(),
};

export const difyUsageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

export const retrieverResourceSchema = z.object({
  position: z.number().int(),
  document_id: z.string().nullable(),
  document_name: z.string(),
  content: z.string(),
  score: z.number(),
});

export const streamEventSchema = z.discriminatedUnion('event', [
  z.object({ ...base, event: z.literal('message'), answer: z.string() }),
  z.object({ ...base, event: z.literal('agent_thought'), thought: z.string(), tool: z.string().optional() }),
  z.object({
    ...base,
    event: z.literal('message_file'),
    file_id: z.string(),
    url: z.string().optional(),
    type: z.string().optional(),
  }),
  /** Replaces the answer so far (Dify's content moderation event). */
  z.object({ ...base, event: z.literal('message_replace'), answer: z.string() }),
  /**
   * The last event of every stream. `status` says how it ended; `answer` carries the whole stored
   * text only when the live stream had expired and this one event stands for all of it.
   */
  z.object({
    ...base,
    event: z.literal('message_end'),
    status: messageStatusSchema,
    metadata: z.object({
      usage: difyUsageSchema.nullable(),
      retriever_resources: z.array(retrieverResourceSchema),
    }),
    answer: z.string().optional(),
  }),
  /** An upstream failure; a `message_end` with status `error` follows. */
  z.object({ ...base, event: z.literal('error'), code: z.string(), message: z.string(), status: z.number().int() }),
  z.object({ ...base, event: z.literal('ping') }),
]);

export type StreamEvent = z.infer<typeof streamEventSchema>;
export type StreamEventName = StreamEvent['event'];
/** An event as appended to the stream log: its id is assigned by the log. */
export type UnnumberedStreamEvent = StreamEvent extends infer E ? (E extends StreamEvent ? Omit<E, 'id'> : never) : never;
