import { tracked } from '@trpc/server';
import { resolveActor } from '../context.ts';
import type { StreamEvent } from '../schemas/stream-event.ts';
import { publicProcedure } from '../trpc.ts';
import { eventsInput } from './events.types.ts';

/**
 * Streams a turn's events; also how a client re-attaches. Access is checked before the first
 * event (so a 404 is an error response, not a broken stream).
 */
export const events = publicProcedure.input(eventsInput).subscription(async ({ ctx, input, signal }) => {
  const stream = await ctx.services.turns.events(
    resolveActor(ctx, input.user),
    input.messageId,
    Number(input.lastEventId ?? 0),
    signal,
  );
  return trackEvents(stream);
});

async function* trackEvents(stream: AsyncIterable<StreamEvent>) {
  for await (const event of stream) yield tracked(event.id, event);
}
