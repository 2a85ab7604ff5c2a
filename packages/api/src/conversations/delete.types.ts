import { z } from 'zod';

export const deleteConversationOutput = z.object({ id: z.string(), deleted: z.literal(true) });
export type DeleteConversationOutput = z.infer<typeof deleteConversationOutput>;
