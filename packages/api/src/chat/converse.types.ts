import { z } from 'zod';
import { citationSchema, messageStatusSchema, usageSchema } from '../schemas/records.ts';

/** A finished turn, as the blocking form returns it. */
export const answerSchema = z.object({
  answer: z.string(),
  conversationId: z.string(),
  messageId: z.string(),
  status: messageStatusSchema,
  usage: usageSchema.nullable(),
  citations: z.array(citationSchema),
  error: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
export type Answer = z.infer<typeof answerSchema>;
