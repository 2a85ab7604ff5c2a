import { z } from 'zod';
import { messageStatusSchema } from '../schemas/records.ts';
import { recordIdSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

export const stopInput = z.object({ ...userFields, messageId: recordIdSchema }).strict();
export const stopOutput = z.object({ messageId: z.string(), status: messageStatusSchema });
export type StopInput = z.input<typeof stopInput>;
