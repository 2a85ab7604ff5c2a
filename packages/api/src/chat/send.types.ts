import { z } from 'zod';

export const sendOutput = z.object({ conversationId: z.string(), messageId: z.string(), agentId: z.string() });
export type SendOutput = z.infer<typeof sendOutput>;
