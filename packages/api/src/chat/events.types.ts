import { z } from 'zod';
import { recordIdSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

export const eventsInput = z
  .object({
    ...userFields,
    messageId: recordIdSchema,
    /** Resume after this event id (tRPC's SSE link fills it in on reconnect). */
    lastEventId: z.union([z.string().regex(/^\d{1,15}$/), z.number().int().nonnegative()]).nullish(),
  })
  .strict();
export type EventsInput = z.input<typeof eventsInput>;
