import { z } from 'zod';
import { idSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

/** Input of get and delete: one conversation by id. */
export const conversationByIdInput = z.object({ ...userFields, id: idSchema }).strict();
export type ConversationByIdInput = z.input<typeof conversationByIdInput>;
