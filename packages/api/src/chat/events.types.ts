import { z } from 'zod';
import { recordIdSchema } from '../schemas/common.ts';
import { userFields } from '../schemas/user-input.ts';

export const eventsInput = z
  .object({
    ...userFields,
    messageId: recordIdSchema,
    /** Resume after this event id (tRPC's SSE link fills it in on reconnect). */
    lastEventId: z.union([z.string().regex(/^\d{1,15}$/), z.number().int().nonnegative()]).nullish(),
    /**
     * The message is being started alongside (a client-chosen id): if it is not there yet, wait
     * for it briefly (a few seconds) instead of answering NOT_FOUND at once.
     */
    awaitStart: z.boolean().optional(),
  })
  .strict();
export type EventsInput = z.input<typeof eventsInput>;
